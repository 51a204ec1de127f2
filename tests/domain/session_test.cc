// DOMAIN.md "Metered", "Payments" and "Invoices", as far as metered sessions
// use them: given events, when a command, then events (or an error).

#include "support/scenario.h"

#include "domain/pricing.h"
#include "domain/views.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

customer_registered alice(bool subscribed = false) {
  return customer_registered{
      ids::customer{"c1"}, "Alice", std::string("alice@example.com"), {}, subscribed};
}
resource_registered pc1(cents rate = 600) {
  return resource_registered{ids::resource{"r1"}, "PC-1", rate};
}
item_registered cola(cents price = 250) {
  return item_registered{ids::item{"cola"}, "Cola", "can", price, "Fridge A"};
}
stock_received cola_stock(std::int64_t q) {
  return stock_received{ids::item{"cola"}, "Cola", q, q};
}

start_session start_metered() {
  return start_session{session_kind::metered, ids::customer{"c1"}, ids::resource{"r1"}, {}};
}

struct metered : ::testing::Test {
  scenario s;
  ids::session started;
  void SetUp() override {
    s.given({alice(), pc1(), cola(), cola_stock(10)});
    auto d = s.run(start_metered());
    started = scenario::only<session_started>(d).session_id;
  }
};

TEST_F(metered, start_captures_rate_and_subscription_and_occupies_the_resource) {
  const auto* ss = s.state().session(started);
  ASSERT_NE(ss, nullptr);
  ASSERT_TRUE(ss->resource);
  EXPECT_EQ(ss->resource->hourly_rate_cents, 600);
  EXPECT_FALSE(ss->customer.subscribed);
  EXPECT_EQ(s.state().resource(ids::resource{"r1"})->occupied_by, started);
}

TEST_F(metered, a_second_session_on_an_occupied_resource_is_refused) {
  s.given({customer_registered{ids::customer{"c2"}, "Bob", {}, {}, false}});
  auto d =
      s.when(start_session{session_kind::metered, ids::customer{"c2"}, ids::resource{"r1"}, {}});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().code, errc::resource_occupied);
}

TEST_F(metered, the_resource_is_free_again_after_the_end) {
  s.advance(10min);
  s.run(end_session{started});
  EXPECT_FALSE(s.state().resource(ids::resource{"r1"})->occupied_by);
  s.given({customer_registered{ids::customer{"c2"}, "Bob", {}, {}, false}});
  EXPECT_TRUE(
      s.when(start_session{session_kind::metered, ids::customer{"c2"}, ids::resource{"r1"}, {}}));
}

TEST_F(metered, rate_changes_after_start_do_not_touch_the_session) {
  s.run(change_resource_rate{ids::resource{"r1"}, 1200});
  s.advance(60min);
  auto d = s.run(end_session{started});
  EXPECT_EQ(scenario::only<session_ended>(d).time_charge_cents, 600);
}

TEST_F(metered, subscription_changes_after_start_do_not_touch_the_session) {
  s.run(change_subscription{ids::customer{"c1"}, true});
  s.advance(30min);
  auto d = s.run(end_session{started});
  EXPECT_EQ(scenario::only<session_ended>(d).time_charge_cents, 300);
}

TEST_F(metered, a_started_minute_counts_and_the_charge_rounds_half_up) {
  // 600/h, 61 s → 2 minutes → 20 cents.
  s.advance(61s);
  auto d = s.run(end_session{started});
  const auto& ended = scenario::only<session_ended>(d);
  EXPECT_EQ(ended.billed_minutes, 2);
  EXPECT_EQ(ended.time_charge_cents, 20);
  EXPECT_EQ(ended.outcome, session_outcome::completed);
  EXPECT_EQ(ended.ended_at, s.now);
}

TEST(metered_rounding, time_charge_rounds_half_up) {
  // 100 cents/h for 1 minute = 1.666… → 2; for 3 minutes = 5.0 → 5;
  // 90 cents/h for 1 minute = 1.5 → 2 (half-up); 30/h for 1 min = 0.5 → 1.
  EXPECT_EQ(time_charge(100, 1), 2);
  EXPECT_EQ(time_charge(100, 3), 5);
  EXPECT_EQ(time_charge(90, 1), 2);
  EXPECT_EQ(time_charge(30, 1), 1);
  EXPECT_EQ(time_charge(29, 1), 0);
  EXPECT_EQ(billed_minutes(t0(), t0()), 0);
  EXPECT_EQ(billed_minutes(t0(), t0() + 1ms), 1);
  EXPECT_EQ(billed_minutes(t0(), t0() + 60s), 1);
  EXPECT_EQ(billed_minutes(t0(), t0() + 60001ms), 2);
}

TEST(metered_subscribed, a_subscribed_customer_pays_no_time_only_items) {
  scenario s;
  s.given({alice(true), pc1(), cola(), cola_stock(5)});
  auto started = scenario::only<session_started>(s.run(start_metered())).session_id;
  EXPECT_TRUE(s.state().session(started)->customer.subscribed);
  s.run(add_item{started, ids::item{"cola"}, 2, {}});
  s.advance(3h);
  auto d = s.run(end_session{started});
  const auto& ended = scenario::only<session_ended>(d);
  EXPECT_EQ(ended.billed_minutes, 180);
  EXPECT_EQ(ended.time_charge_cents, 0);
  EXPECT_EQ(ended.total_cents, 500);
  const auto& inv = scenario::only<invoice_issued>(d, 2);
  ASSERT_EQ(inv.lines.size(), 2u);
  EXPECT_EQ(inv.lines[0].amount_cents, 0);
}

TEST_F(metered, items_are_consumed_when_added_at_the_locked_price) {
  auto d = s.run(add_item{started, ids::item{"cola"}, 3, {}});
  const auto& added = scenario::only<item_added>(d);
  EXPECT_EQ(added.effect, stock_effect::consumed);
  EXPECT_EQ(added.unit_price_cents, 250);
  EXPECT_EQ(added.location, "Fridge A");
  EXPECT_EQ(s.state().item(ids::item{"cola"})->on_hand, 7);
  EXPECT_EQ(s.state().item(ids::item{"cola"})->reserved, 0);
  // The list price changes later; the line keeps its price.
  s.run(put_item{ids::item{"cola"}, "Cola", {}, 300, {}});
  s.advance(1min);
  auto end = s.run(end_session{started});
  EXPECT_EQ(scenario::only<session_ended>(end).items_total_cents, 750);
}

TEST_F(metered, a_host_may_give_the_unit_price) {
  auto d = s.run(add_item{started, ids::item{"cola"}, 1, cents{100}});
  EXPECT_EQ(scenario::only<item_added>(d).unit_price_cents, 100);
  EXPECT_EQ(scenario::only<item_added>(d).list_price_cents, 250);
}

TEST_F(metered, adding_more_than_is_on_hand_is_refused_and_changes_nothing) {
  auto d = s.when(add_item{started, ids::item{"cola"}, 11, {}});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().code, errc::insufficient_stock);
  EXPECT_EQ(s.state().item(ids::item{"cola"})->on_hand, 10);
}

TEST_F(metered, removing_a_mistaken_line_gives_the_stock_back) {
  auto added = scenario::only<item_added>(s.run(add_item{started, ids::item{"cola"}, 4, {}}));
  EXPECT_EQ(s.state().item(ids::item{"cola"})->on_hand, 6);
  auto d = s.run(remove_item{started, added.line_id});
  EXPECT_EQ(scenario::only<item_removed>(d).effect, stock_effect::returned);
  EXPECT_EQ(s.state().item(ids::item{"cola"})->on_hand, 10);
  EXPECT_TRUE(s.state().session(started)->lines.empty());
}

TEST_F(metered, end_charges_the_platform_and_issues_an_invoice_with_a_time_line_and_item_lines) {
  s.run(add_item{started, ids::item{"cola"}, 2, {}});
  s.advance(90min);
  auto d = s.run(end_session{started});
  ASSERT_EQ(d.events.size(), 3u);
  const auto& ended = scenario::only<session_ended>(d, 0);
  EXPECT_EQ(ended.total_cents, 900 + 500);
  const auto& charge = scenario::only<charge_processed>(d, 1);
  EXPECT_EQ(charge.amount_cents, 1400);
  EXPECT_EQ(charge.reason, charge_reason::time_and_items);
  cents platform = 0, host = 0;
  for (const auto& sp : charge.splits)
    (sp.party == party::platform ? platform : host) += sp.amount_cents;
  EXPECT_EQ(platform, 1400);
  EXPECT_EQ(host, 0);
  const auto& inv = scenario::only<invoice_issued>(d, 2);
  EXPECT_EQ(inv.number, "INV-000001");
  ASSERT_EQ(inv.lines.size(), 2u);
  EXPECT_EQ(inv.lines[0].quantity, 1);
  EXPECT_EQ(inv.lines[0].amount_cents, 900);
  EXPECT_EQ(inv.lines[1].description, "Cola");
  EXPECT_EQ(inv.lines[1].quantity, 2);
  EXPECT_EQ(inv.lines[1].amount_cents, 500);
  EXPECT_EQ(inv.total_cents, 1400);
  EXPECT_EQ(s.state().session(started)->invoice_id, inv.invoice_id);
}

TEST(metered_zero, a_total_of_zero_gives_no_charge_and_no_invoice) {
  scenario s;
  s.given({alice(true), pc1()});
  auto started = scenario::only<session_started>(s.run(start_metered())).session_id;
  s.advance(5min);
  auto d = s.run(end_session{started});
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(scenario::only<session_ended>(d).total_cents, 0);
}

TEST_F(metered, an_ended_session_refuses_items_notes_and_a_second_end) {
  s.advance(1min);
  s.run(end_session{started});
  for (const command& c : std::vector<command>{add_item{started, ids::item{"cola"}, 1, {}},
                                               add_note{started, "hi", {}}, end_session{started}}) {
    auto d = s.when(c);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.err().code, errc::invalid_state);
  }
}

TEST(invoice_numbers, are_gapless_and_increase_per_tenant) {
  scenario s;
  s.given({alice(), pc1(), resource_registered{ids::resource{"r2"}, "PC-2", 600}});
  std::vector<std::string> numbers;
  for (int i = 0; i < 3; ++i) {
    auto id = scenario::only<session_started>(s.run(start_metered())).session_id;
    s.advance(10min);
    numbers.push_back(scenario::only<invoice_issued>(s.run(end_session{id}), 2).number);
  }
  numbers.push_back(
      scenario::only<invoice_issued>(
          s.run(issue_invoice{ids::customer{"c1"}, {new_invoice_line{"Gift card", 1, 2000}}}))
          .number);
  EXPECT_EQ(numbers,
            (std::vector<std::string>{"INV-000001", "INV-000002", "INV-000003", "INV-000004"}));
}

TEST_F(metered, payments_move_the_payment_status) {
  s.advance(60min);
  s.run(end_session{started});  // 600 charged
  EXPECT_EQ(payment_status_of(*s.state().session(started)), payment_status::unpaid);
  auto d = s.run(record_payment{started, {}, 200, "cash"});
  EXPECT_EQ(scenario::only<payment_recorded>(d).status, payment_status::partially_paid);
  d = s.run(record_payment{started, {}, 400, "card"});
  EXPECT_EQ(scenario::only<payment_recorded>(d).status, payment_status::paid);
  d = s.run(refund_payment{started, 600, "complaint"});
  EXPECT_EQ(scenario::only<payment_refunded>(d).status, payment_status::refunded);
  EXPECT_EQ(s.state().customer(ids::customer{"c1"})->total_paid_cents, 0);
  auto too_much = s.when(refund_payment{started, 1, "again"});
  ASSERT_FALSE(too_much);
  EXPECT_EQ(too_much.err().fields.at(0).field, "amount_cents");
}

TEST_F(metered, the_cost_runs_while_active_and_freezes_at_the_end) {
  s.advance(30min);
  const auto* ss = s.state().session(started);
  EXPECT_EQ(cost_of(*ss, s.now).time_charge_cents, 300);
  s.run(end_session{started});
  EXPECT_EQ(cost_of(*s.state().session(started), s.now + 5h).time_charge_cents, 300);
  auto view = render(*s.state().session(started), s.now + 5h);
  EXPECT_EQ(view.status, session_status::ended);
  EXPECT_EQ(view.cost.total_cents, 300);
}

}  // namespace
