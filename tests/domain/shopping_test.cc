// DOMAIN.md "Shopping" (seed 001): reservations, price adjustments, picks,
// completion, cancellation, sold-out write-downs and timeouts.

#include "support/scenario.h"

#include "domain/views.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;

namespace {

struct shopping : ::testing::Test {
  scenario s;
  ids::session first, second;
  void SetUp() override {
    s.given({customer_registered{ids::customer{"c1"}, "Ann", {}, {}, false},
             customer_registered{ids::customer{"c2"}, "Ben", {}, {}, false},
             item_registered{ids::item{"mug"}, "Mug", "pcs", 1200, "Shelf B3"},
             stock_received{ids::item{"mug"}, "Mug", 5, 5}});
    first = start("c1");
    second = start("c2");
  }
  ids::session start(const char* customer) {
    return scenario::only<session_started>(
               s.run(start_session{session_kind::shopping, ids::customer{customer}, {}, {}}))
        .session_id;
  }
  ids::line add(const ids::session& id, std::int64_t q) {
    return scenario::only<item_added>(s.run(add_item{id, ids::item{"mug"}, q, {}})).line_id;
  }
  const item_state& mug() { return *s.state().item(ids::item{"mug"}); }
};

TEST_F(shopping, adding_reserves_at_once_and_first_come_is_first_served) {
  add(first, 3);
  EXPECT_EQ(mug().reserved, 3);
  EXPECT_EQ(mug().on_hand, 5);
  EXPECT_EQ(mug().available(), 2);
  auto refused = s.when(add_item{second, ids::item{"mug"}, 3, {}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::insufficient_stock);
  EXPECT_EQ(mug().reserved, 3);
  add(second, 2);
  EXPECT_EQ(mug().available(), 0);
}

TEST_F(shopping, removing_a_line_releases_its_reservation) {
  auto line = add(first, 3);
  auto d = s.run(remove_item{first, line});
  EXPECT_EQ(scenario::only<item_removed>(d).effect, stock_effect::released);
  EXPECT_EQ(mug().reserved, 0);
  EXPECT_EQ(mug().on_hand, 5);
}

TEST_F(shopping, a_price_adjustment_keeps_the_list_and_previous_price_and_who) {
  auto line = add(first, 2);
  s.run(adjust_price{first, line, 1000, std::string("bundle")});
  auto d = s.run(adjust_price{first, line, 900, {}});
  const auto& adj = scenario::only<price_adjusted>(d);
  EXPECT_EQ(adj.previous_price_cents, 1000);
  EXPECT_EQ(adj.list_price_cents, 1200);
  EXPECT_EQ(adj.line_total_cents, 1800);
  EXPECT_EQ(adj.adjusted_by.value, "staff-1");
  auto v = render(*s.state().session(first), s.now);
  EXPECT_EQ(v.lines.at(0).unit_price_cents, 900);
  EXPECT_EQ(v.lines.at(0).list_price_cents, 1200);
  EXPECT_EQ(v.items_total_cents, 1800);
  auto negative = s.when(adjust_price{first, line, -1, {}});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.err().fields.at(0).field, "unit_price_cents");
}

TEST_F(shopping, completing_consumes_reservations_creates_the_order_charge_and_invoice) {
  auto line = add(first, 2);
  s.run(adjust_price{first, line, 1000, {}});
  auto d = s.run(end_session{first});
  ASSERT_EQ(d.events.size(), 3u);
  EXPECT_EQ(scenario::only<session_ended>(d).total_cents, 2000);
  EXPECT_EQ(scenario::only<charge_processed>(d, 1).amount_cents, 2000);
  EXPECT_EQ(scenario::only<invoice_issued>(d, 2).lines.size(), 1u);
  EXPECT_EQ(mug().on_hand, 3);
  EXPECT_EQ(mug().reserved, 0);
  EXPECT_EQ(s.state().session(first)->order_id, first);
}

TEST_F(shopping, completing_an_empty_cart_is_refused) {
  auto d = s.when(end_session{first});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().code, errc::empty_cart);
}

TEST_F(shopping, cancelling_releases_everything_and_charges_nothing) {
  add(first, 4);
  auto d = s.run(cancel_session{first, std::string("changed mind")});
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::cancelled);
  EXPECT_EQ(mug().reserved, 0);
  EXPECT_EQ(mug().on_hand, 5);
  EXPECT_FALSE(render_picks(*s.state().session(first)));
}

TEST_F(shopping, picks_record_how_many_and_a_short_pick_keeps_the_rest_on_the_list) {
  auto line = add(first, 3);
  auto d = s.run(pick_item{first, line, std::int64_t{1}});
  const auto& p = scenario::only<item_picked>(d);
  EXPECT_EQ(p.picked_quantity, 1);
  EXPECT_EQ(p.remaining, 2);
  EXPECT_EQ(p.location, "Shelf B3");
  auto picks = render_picks(*s.state().session(first));
  ASSERT_TRUE(picks);
  EXPECT_EQ(picks->lines.at(0).remaining, 2);
  auto too_many = s.when(pick_item{first, line, std::int64_t{3}});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.err().code, errc::invalid_state);
  // Lines stay on the pick list after completion, until picked.
  s.run(end_session{first});
  EXPECT_TRUE(render_picks(*s.state().session(first)));
  s.run(pick_item{first, line, {}});
  EXPECT_FALSE(render_picks(*s.state().session(first)));
}

TEST_F(shopping, a_write_down_below_reservations_removes_the_newest_lines_first) {
  auto older = add(first, 2);
  auto newer = add(second, 3);
  // 5 on hand, 5 reserved; write down 2: the newest reservation (3) loses.
  auto d = s.run(adjust_stock{ids::item{"mug"}, -2, "breakage"});
  ASSERT_EQ(d.events.size(), 2u);
  const auto& removed = scenario::only<item_removed>(d, 1);
  EXPECT_EQ(removed.line_id, newer);
  EXPECT_EQ(removed.session_id, second);
  EXPECT_EQ(removed.reason, removal_reason::sold_out);
  EXPECT_EQ(mug().on_hand, 3);
  EXPECT_EQ(mug().reserved, 2);
  EXPECT_TRUE(s.state().session(first)->find_line(older));
  EXPECT_FALSE(s.state().session(second)->find_line(newer));
}

TEST_F(shopping, a_write_down_within_what_is_free_removes_nothing) {
  add(first, 2);
  auto d = s.run(adjust_stock{ids::item{"mug"}, -3, "count"});
  EXPECT_EQ(d.events.size(), 1u);
}

TEST_F(shopping, metered_lines_are_never_taken_back_by_a_write_down) {
  s.given({resource_registered{ids::resource{"r"}, "PC", 100}});
  auto m =
      scenario::only<session_started>(
          s.run(start_session{session_kind::metered, ids::customer{"c1"}, ids::resource{"r"}, {}}))
          .session_id;
  s.run(add_item{m, ids::item{"mug"}, 2, {}});  // consumed: on hand 3
  add(first, 3);                                // reserved 3
  auto d = s.run(adjust_stock{ids::item{"mug"}, -1, "breakage"});
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(scenario::only<item_removed>(d, 1).session_id, first);
  EXPECT_EQ(s.state().session(m)->lines.size(), 1u);
}

TEST_F(shopping, no_activity_for_the_timeout_ends_the_session_at_last_activity_plus_timeout) {
  add(first, 2);
  const auto last = s.now;
  s.advance(29min);
  auto early = s.run(expire_session{first});
  EXPECT_TRUE(early.events.empty());
  s.advance(5min);
  auto d = s.run(expire_session{first});
  const auto& ended = scenario::only<session_ended>(d);
  EXPECT_EQ(ended.outcome, session_outcome::timed_out);
  EXPECT_EQ(ended.ended_at, last + 30min);
  EXPECT_EQ(mug().reserved, 0);
  // Once only.
  EXPECT_TRUE(s.run(expire_session{first}).events.empty());
}

TEST_F(shopping, any_command_on_the_session_is_activity_and_zero_means_never) {
  add(first, 1);
  s.advance(20min);
  s.run(add_note{first, "customer is thinking", {}});
  s.advance(20min);
  EXPECT_TRUE(s.run(expire_session{first}).events.empty());
  s.run(change_settings{{}, {}, {}, {}, {}, {}, std::int64_t{0}});
  s.advance(10h);
  EXPECT_TRUE(s.run(expire_session{first}).events.empty());
}

}  // namespace
