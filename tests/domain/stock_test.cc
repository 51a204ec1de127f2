// DOMAIN.md "Shopping" and "Appointments": stock that no session holds for
// ever. Appointments take no items, the lines an older history reserved on
// one are released when it ends, and a write-down never edits an ended
// session; old removals replay unchanged.

#include "support/booked_appointments.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

using stock = tally::testing::booked_appointments;

// An appointment started, with a line of 2 mugs reserved on it as an older
// history could hold it (ItemAdded written before appointments took none).
struct appointment_holding : tally::testing::booked_appointments {
  ids::item mug{"mug"};
  ids::line line{"l1"};
  ids::session started() {
    if (!s.state().item(mug))
      s.given({item_registered{mug, "Mug", "pcs", 100, "B3"}, stock_received{mug, "Mug", 5, 5}});
    const auto id = booked(1000);
    s.now = start;
    s.run(start_appointment{id});
    s.given(
        {item_added{id, line, mug, "Mug", "pcs", "B3", 2, 100, 100, 200, stock_effect::reserved}});
    EXPECT_EQ(s.state().item(mug)->reserved, 2);
    return id;
  }
  // The decision's first event releases the line, as not billable.
  void expect_released_first(const decision& d, const ids::session& id) {
    const auto& r = scenario::only<item_removed>(d);
    EXPECT_EQ(r.session_id, id);
    EXPECT_EQ(r.line_id, line);
    EXPECT_EQ(r.reason, removal_reason::not_billable);
    EXPECT_EQ(r.effect, stock_effect::released);
    EXPECT_EQ(s.state().item(mug)->reserved, 0);
    EXPECT_EQ(s.state().item(mug)->on_hand, 5);
  }
};

TEST_F(stock, an_appointment_takes_no_items) {
  s.given({item_registered{ids::item{"mug"}, "Mug", "pcs", 100, "B3"},
           stock_received{ids::item{"mug"}, "Mug", 5, 5}});
  const auto id = booked(1000);
  s.now = start;
  s.run(start_appointment{id});
  auto d = s.when(add_item{id, ids::item{"mug"}, 1, {}});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().code, errc::wrong_kind);
  EXPECT_EQ(s.state().item(ids::item{"mug"})->reserved, 0);
  EXPECT_TRUE(session(id).lines.empty());
}

TEST_F(appointment_holding, an_older_appointments_line_is_released_when_it_ends) {
  const auto id = started();
  s.now = start + 50min;
  auto d = s.run(end_session{id});
  ASSERT_EQ(d.events.size(), 3u);  // released, ended, charged the price alone
  expect_released_first(d, id);
  EXPECT_EQ(scenario::only<charge_processed>(d, 2).amount_cents, 1000);
  EXPECT_TRUE(session(id).lines.empty());
}

TEST_F(appointment_holding, every_ending_releases_it_cancel_no_show_and_the_automatic_end) {
  auto cancelled = started();
  expect_released_first(s.run(cancel_session{cancelled, {}}), cancelled);
  s.now = t0();
  auto absent = started();
  s.now = start + 20min;
  expect_released_first(s.run(mark_no_show{absent, absent_party::customer}), absent);
  s.now = t0();
  auto expired = started();
  s.now = start + 60min;
  expect_released_first(s.run(expire_session{expired}), expired);
}

TEST_F(appointment_holding, one_that_ended_holding_stock_is_never_written_down_and_gives_it_back) {
  const auto id = started();
  // Ended as an older version ended it: the hold stays.
  session_ended old;
  old.session_id = id;
  old.kind = session_kind::appointment;
  old.outcome = session_outcome::completed;
  old.ended_at = start + 50min;
  old.customer_id = ids::customer{"c1"};
  s.given({old});
  EXPECT_EQ(s.state().item(mug)->reserved, 2);
  // A write-down does not edit the ended session.
  auto down = s.run(adjust_stock{mug, -4, "breakage"});
  ASSERT_EQ(down.events.size(), 1u);
  EXPECT_EQ(session(id).lines.size(), 1u);
  // Removing the line gives the stock back, by an event of its own.
  auto removed = s.run(remove_item{id, line});
  EXPECT_EQ(scenario::only<item_removed>(removed).reason, removal_reason::not_billable);
  EXPECT_EQ(s.state().item(mug)->reserved, 0);
  EXPECT_EQ(s.state().item(mug)->on_hand, 1);
}

TEST_F(stock, a_sold_out_removal_of_a_whole_line_written_before_item_reduced_replays_unchanged) {
  // As written before ItemReduced: the line goes, the hold too.
  s.given({item_registered{ids::item{"mug"}, "Mug", "pcs", 100, "B3"},
           stock_received{ids::item{"mug"}, "Mug", 5, 5}});
  auto shop = scenario::only<session_started>(
                  s.run(start_session{session_kind::shopping, ids::customer{"c1"}, {}, {}}))
                  .session_id;
  auto line = scenario::only<item_added>(s.run(add_item{shop, ids::item{"mug"}, 3, {}})).line_id;
  s.given({stock_adjusted{ids::item{"mug"}, "Mug", -3, "breakage", 2},
           item_removed{shop, line, ids::item{"mug"}, "Mug", 3, removal_reason::sold_out,
                        stock_effect::released}});
  EXPECT_TRUE(session(shop).lines.empty());
  EXPECT_EQ(s.state().item(ids::item{"mug"})->reserved, 0);
  EXPECT_EQ(s.state().item(ids::item{"mug"})->on_hand, 2);
}

}  // namespace
