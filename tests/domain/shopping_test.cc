// DOMAIN.md "Shopping" (seed 001): reservations, price adjustments, picks,
// completion, cancellation, sold-out write-downs and timeouts.

#include "support/scenario.h"

#include "domain/state_codec.h"
#include "domain/views.h"

#include <set>

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

TEST_F(shopping, a_write_down_below_reservations_takes_only_the_shortfall_from_the_newest) {
  auto older = add(first, 2);
  auto newer = add(second, 3);
  // 5 on hand, 5 reserved; write down 2: the newest hold gives back exactly 2
  // and keeps 1 (it used to lose its whole line).
  auto d = s.run(adjust_stock{ids::item{"mug"}, -2, "breakage"});
  ASSERT_EQ(d.events.size(), 2u);
  const auto& reduced = scenario::only<item_reduced>(d, 1);
  EXPECT_EQ(reduced.line_id, newer);
  EXPECT_EQ(reduced.session_id, second);
  EXPECT_EQ(reduced.quantity, 2);
  EXPECT_EQ(reduced.line_quantity, 1);
  EXPECT_EQ(reduced.line_total_cents, 1200);
  EXPECT_EQ(reduced.reason, removal_reason::sold_out);
  EXPECT_EQ(mug().on_hand, 3);
  EXPECT_EQ(mug().reserved, 3);
  EXPECT_EQ(s.state().session(first)->find_line(older)->quantity, 2);
  EXPECT_EQ(s.state().session(second)->find_line(newer)->quantity, 1);
  EXPECT_EQ(s.state().reservation(ids::item{"mug"}, newer)->quantity, 1);
  // Taking the rest of it removes the line.
  auto rest = s.run(adjust_stock{ids::item{"mug"}, -1, "breakage"});
  ASSERT_EQ(rest.events.size(), 2u);
  EXPECT_EQ(scenario::only<item_removed>(rest, 1).quantity, 1);
  EXPECT_FALSE(s.state().session(second)->find_line(newer));
  EXPECT_EQ(mug().reserved, 2);
}

// The defect of the December review: a write-down of 5 emptied two carts
// (6 + 4 units), one of them already picked into a bag.
TEST_F(shopping, a_write_down_never_takes_picked_units_and_is_refused_below_them) {
  s.given({stock_received{ids::item{"mug"}, "Mug", 5, 10}});
  auto a = add(first, 6);
  auto b = add(second, 4);
  s.run(pick_item{second, b, std::int64_t{2}});  // 2 of the newest cart are in a bag
  EXPECT_EQ(mug().picked, 2);
  auto d = s.run(adjust_stock{ids::item{"mug"}, -5, "breakage"});
  ASSERT_EQ(d.events.size(), 3u);
  // The newest gives back its 2 unpicked units, the older one the 3 still short.
  const auto& newest = scenario::only<item_reduced>(d, 1);
  EXPECT_EQ(newest.line_id, b);
  EXPECT_EQ(newest.quantity, 2);
  EXPECT_EQ(newest.line_quantity, 2);
  EXPECT_EQ(newest.picked_quantity, 2);
  const auto& older = scenario::only<item_reduced>(d, 2);
  EXPECT_EQ(older.line_id, a);
  EXPECT_EQ(older.quantity, 3);
  EXPECT_EQ(older.line_quantity, 3);
  EXPECT_EQ(mug().on_hand, 5);
  EXPECT_EQ(mug().reserved, 5);
  EXPECT_EQ(s.state().session(second)->find_line(b)->picked_quantity, 2);
  // Below the 2 picked units: refused, nothing changes.
  auto refused = s.when(adjust_stock{ids::item{"mug"}, -4, "breakage"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::stock_picked);
  EXPECT_EQ(refused.err().fields.at(0).field, "delta");
  // Down to exactly the picked units: every unpicked unit goes; b keeps its bag.
  auto to_bag = s.run(adjust_stock{ids::item{"mug"}, -3, "breakage"});
  ASSERT_EQ(to_bag.events.size(), 2u);
  EXPECT_EQ(scenario::only<item_removed>(to_bag, 1).line_id, a);
  EXPECT_EQ(mug().reserved, 2);
  EXPECT_EQ(mug().picked, 2);
  // Completing consumes the bag; the picked count goes with the hold.
  s.run(end_session{second});
  EXPECT_EQ(mug().picked, 0);
  EXPECT_EQ(mug().on_hand, 0);
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
  EXPECT_EQ(scenario::only<item_reduced>(d, 1).session_id, first);
  EXPECT_EQ(s.state().session(m)->lines.size(), 1u);
  EXPECT_EQ(s.state().session(m)->lines.at(0).quantity, 2);
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

// The item's holds are a list of nodes under their own keys (issue #7,
// defect 3): adding, releasing and writing down touch a few keys, never a
// list that grows with how many sessions hold the item.
struct holds : ::testing::Test {
  scenario s;
  std::vector<ids::session> sessions;
  void SetUp() override {
    s.given({customer_registered{ids::customer{"c1"}, "Ann", {}, {}, false},
             item_registered{ids::item{"mug"}, "Mug", "pcs", 1200, "Shelf B3"},
             stock_received{ids::item{"mug"}, "Mug", 100'000, 100'000}});
  }
  ids::line hold(std::int64_t q) {
    sessions.push_back(
        scenario::only<session_started>(
            s.run(start_session{session_kind::shopping, ids::customer{"c1"}, {}, {}}))
            .session_id);
    return scenario::only<item_added>(s.run(add_item{sessions.back(), ids::item{"mug"}, q, {}}))
        .line_id;
  }
  const item_state& mug() { return *s.state().item(ids::item{"mug"}); }
  // The list from oldest to newest, checking the links both ways.
  std::vector<ids::line> walk() {
    std::vector<ids::line> out;
    std::optional<ids::line> prev;
    for (auto at = mug().oldest_reservation; at;) {
      const auto* r = s.state().reservation(ids::item{"mug"}, *at);
      EXPECT_NE(r, nullptr);
      if (!r) break;
      EXPECT_EQ(r->older, prev);
      out.push_back(r->line_id);
      prev = r->line_id;
      at = r->newer;
    }
    EXPECT_EQ(mug().newest_reservation, prev);
    return out;
  }
};

TEST_F(holds, are_linked_oldest_to_newest_and_unlinked_from_anywhere) {
  auto a = hold(1), b = hold(2), c = hold(3), d = hold(4);
  EXPECT_EQ(walk(), (std::vector<ids::line>{a, b, c, d}));
  s.run(remove_item{sessions[1], b});  // the middle
  EXPECT_EQ(walk(), (std::vector<ids::line>{a, c, d}));
  s.run(remove_item{sessions[3], d});  // the newest
  EXPECT_EQ(walk(), (std::vector<ids::line>{a, c}));
  s.run(end_session{sessions[0]});  // the oldest, by completing its session
  EXPECT_EQ(walk(), (std::vector<ids::line>{c}));
  EXPECT_EQ(mug().reserved, 3);
  s.run(cancel_session{sessions[2], {}});
  EXPECT_TRUE(walk().empty());
  EXPECT_EQ(mug().reserved, 0);
  EXPECT_FALSE(mug().oldest_reservation);
  EXPECT_FALSE(s.state().reservation(ids::item{"mug"}, c));
}

TEST_F(holds, a_write_down_reads_only_the_newest_holds_it_takes_back) {
  std::vector<ids::line> lines;
  for (int i = 0; i < 1000; ++i) lines.push_back(hold(100));
  // 100 000 on hand, 100 000 reserved: writing down 250 takes the 2 newest
  // and half of the third.
  auto d = s.run(adjust_stock{ids::item{"mug"}, -250, "breakage"});
  ASSERT_EQ(d.events.size(), 4u);
  EXPECT_EQ(scenario::only<item_removed>(d, 1).line_id, lines[999]);
  EXPECT_EQ(scenario::only<item_removed>(d, 2).line_id, lines[998]);
  EXPECT_EQ(scenario::only<item_reduced>(d, 3).line_id, lines[997]);
  EXPECT_EQ(scenario::only<item_reduced>(d, 3).quantity, 50);
  EXPECT_EQ(walk().size(), 998u);
  EXPECT_EQ(mug().reserved, 99'750);
}

// Counts what evolve writes: keys taken for change, put or erased.
class counting_state final : public state_access {
 public:
  explicit counting_state(memory_state& inner) : inner_(inner) {}
  [[nodiscard]] const aggregate* find(std::string_view key) const override {
    return inner_.find(key);
  }
  aggregate* find_mut(std::string_view key) override {
    auto* a = inner_.find_mut(key);
    if (a) written.insert(std::string(key));
    return a;
  }
  aggregate& put(std::string_view key, aggregate value) override {
    written.insert(std::string(key));
    return inner_.put(key, std::move(value));
  }
  void erase(std::string_view key) override {
    written.insert(std::string(key));
    inner_.erase(key);
  }
  std::set<std::string> written;

 private:
  memory_state& inner_;
};

TEST(holds_cost, adding_a_hold_writes_the_same_few_small_keys_with_1_or_5000_holders) {
  memory_state state;
  const ids::tenant acme{"acme"};
  int n = 0;
  auto apply = [&](event_data d) {
    event e;
    e.tenant = acme;
    e.stream = stream_of(acme, d);
    e.id = ids::event{"e" + std::to_string(++n)};
    e.data = std::move(d);
    evolve(state, e);
  };
  apply(item_registered{ids::item{"mug"}, "Mug", "pcs", 1200, "B3"});
  auto add = [&](int i) {
    item_added a{};
    a.session_id = ids::session{"s" + std::to_string(i)};
    a.line_id = ids::line{"l" + std::to_string(i)};
    a.item_id = ids::item{"mug"};
    a.quantity = 1;
    a.effect = stock_effect::reserved;
    event e;
    e.tenant = acme;
    e.stream = stream_id::of(ids::session{"s" + std::to_string(i)});
    e.data = a;
    counting_state counting(state);
    evolve(counting, e);
    return counting.written;
  };
  const auto first = add(0);
  for (int i = 1; i < 5000; ++i) add(i);
  const auto last = add(5000);
  // The item, the new hold and the previous newest (the session is absent here).
  EXPECT_EQ(last.size(), 3u);
  EXPECT_TRUE(last.contains("item-mug"));
  EXPECT_TRUE(last.contains(keys::reservation(ids::item{"mug"}, ids::line{"l5000"})));
  EXPECT_TRUE(last.contains(keys::reservation(ids::item{"mug"}, ids::line{"l4999"})));
  EXPECT_EQ(first.size(), 2u);
  // And the item itself stays small.
  EXPECT_LT(encode_aggregate(*state.find("item-mug")).size(), 400u);
}

// Seed 001's rollout: the tenant setting live_shopping.
TEST(shopping_rollout, live_shopping_off_or_a_host_list_keeps_others_from_starting) {
  scenario s;
  s.given({customer_registered{ids::customer{"c1"}, "Ann", {}, {}, false}});
  const start_session shop{session_kind::shopping, ids::customer{"c1"}, {}, {}};
  const auto running = scenario::only<session_started>(s.run(shop)).session_id;
  s.run(change_settings{.live_shopping = std::string("off")});
  auto refused = s.when(shop);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::feature_disabled);
  // A session already running finishes normally.
  EXPECT_TRUE(s.when(cancel_session{running, {}}).has_value());
  s.run(change_settings{.live_shopping = std::vector<std::string>{"someone-else"}});
  refused = s.when(shop);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::feature_disabled);
  s.run(change_settings{.live_shopping = std::vector<std::string>{"someone-else", "staff-1"}});
  EXPECT_TRUE(s.when(shop).has_value());
  s.run(change_settings{.live_shopping = std::string("all")});
  EXPECT_TRUE(s.when(shop).has_value());
}

TEST(shopping_rollout, settings_refuse_an_unknown_mode_and_an_unknown_time_zone) {
  auto problems = validate(change_settings{.live_shopping = std::string("some")});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "live_shopping");
  problems = validate(change_settings{.timezone = std::string("Mars/Olympus")});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "timezone");
  EXPECT_TRUE(validate(change_settings{.timezone = std::string("Asia/Kolkata")}).empty());
}
