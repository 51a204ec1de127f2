// The rows the read models keep (projections/keys.h, issue #18): each event
// is stored once (a stream's history names positions in the tenant's events),
// and the active list's rows are its page, read without the aggregates.

#include "domain/state.h"
#include "projections/keys.h"
#include "projections/read_side_fixture.h"

#include <string>
#include <vector>

using namespace tally;

namespace {

using tally::testing::read_side;

const ids::tenant acme{"acme"};

session_started started(const std::string& id, session_kind kind, const std::string& host,
                        std::int64_t minute) {
  session_started s;
  s.session_id = ids::session{id};
  s.kind = kind;
  s.customer = customer_ref{ids::customer{"c1"}, "Ann", false};
  s.host_id = ids::user{host};
  s.started_at = from_millis(1'795'000'000'000 + minute * 60'000);
  return s;
}

item_added added(const std::string& session, const std::string& line) {
  item_added a;
  a.session_id = ids::session{session};
  a.line_id = ids::line{line};
  a.item_id = ids::item{"espresso"};
  a.name = "Espresso";
  a.quantity = 2;
  a.unit_price_cents = 250;
  a.list_price_cents = 250;
  a.line_total_cents = 500;
  return a;
}

std::vector<std::string> ids_in(const result<std::string>& page) {
  std::vector<std::string> out;
  EXPECT_TRUE(page) << (page ? "" : page.err().detail);
  if (!page) return out;
  const auto parsed = boost::json::parse(*page);
  for (const auto& item : parsed.at("items").as_array())
    out.emplace_back(item.at("session_id").as_string());
  return out;
}

}  // namespace

TEST_F(read_side, each_event_is_stored_once_and_its_history_names_where) {
  append(started("s1", session_kind::shopping, "u1", 0));
  append(added("s1", "l1"));
  projections::projector projector(*log, views);
  ASSERT_TRUE(projector.catch_up());

  std::vector<std::string> history;
  views.scan("h/acme/", "", [&](std::string_view, std::string_view v) {
    history.emplace_back(v);
    return true;
  });
  EXPECT_EQ(history, (std::vector<std::string>{"0:0", "0:1"}));
  // The event's id appears in one row of the store: its e/ row.
  int copies = 0;
  views.scan("", "", [&](std::string_view, std::string_view v) {
    if (v.find(R"("id":"e2")") != std::string_view::npos) ++copies;
    return true;
  });
  EXPECT_EQ(copies, 1);

  projections::queries q(views, clock);
  auto events = q.session_events(acme, ids::session{"s1"}, {});
  ASSERT_TRUE(events) << events.err().detail;
  const auto parsed = boost::json::parse(*events);
  const auto& items = parsed.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("type").as_string(), "SessionStarted");
  EXPECT_EQ(items[1].at("type").as_string(), "ItemAdded");
  EXPECT_EQ(items[1].at("position").as_string(), "0:1");
  // The session as it was at version 1 is folded from the same rows.
  auto then = q.session_at(acme, ids::session{"s1"}, 1, std::nullopt, false);
  ASSERT_TRUE(then) << then.err().detail;
  EXPECT_TRUE(boost::json::parse(*then).at("lines").as_array().empty());
}

TEST_F(read_side, a_history_row_that_names_no_event_fails_its_read_not_another) {
  append(started("s1", session_kind::shopping, "u1", 0));
  append(started("s2", session_kind::shopping, "u1", 1));
  projections::projector projector(*log, views);
  ASSERT_TRUE(projector.catch_up());
  ports::kv_batch b;
  b.erase(projections::layout::tenant_event(acme, 0, 0));
  ASSERT_TRUE(views.write(b));
  projections::queries q(views, clock);
  EXPECT_ANY_THROW((void)q.session_events(acme, ids::session{"s1"}, {}));
  EXPECT_TRUE(q.session_events(acme, ids::session{"s2"}, {}));
}

TEST_F(read_side, the_active_page_is_its_rows_and_follows_every_change_of_the_session) {
  append(started("s1", session_kind::shopping, "u1", 0));
  append(started("a1", session_kind::appointment, "host-1", 1));
  append(started("a2", session_kind::appointment, "host-2", 2));
  append(added("s1", "l1"));
  projections::projector projector(*log, views);
  ASSERT_TRUE(projector.catch_up());
  projections::queries q(views, clock);
  EXPECT_EQ(ids_in(q.active_sessions(acme, {}, std::nullopt)),
            (std::vector<std::string>{"a2", "a1", "s1"}));
  // A host sees the open sessions and their own appointments only.
  EXPECT_EQ(ids_in(q.active_sessions(acme, {}, ids::user{"host-1"})),
            (std::vector<std::string>{"a1", "s1"}));

  // The page does not read the aggregates: with s1's gone, its row still
  // shows the line the last event added.
  ports::kv_batch b;
  b.erase(projections::layout::aggregate(acme, keys::session(ids::session{"s1"})));
  ASSERT_TRUE(views.write(b));
  auto page = q.active_sessions(acme, {}, std::nullopt);
  ASSERT_TRUE(page);
  const auto parsed = boost::json::parse(*page);
  const auto& s1 = parsed.at("items").as_array()[2];
  EXPECT_EQ(s1.at("session_id").as_string(), "s1");
  EXPECT_EQ(s1.at("item_count").as_int64(), 2);
  EXPECT_EQ(s1.at("items_total_cents").as_int64(), 500);

  // Ended, it leaves the list.
  session_ended ended;
  ended.session_id = ids::session{"a1"};
  ended.ended_at = from_millis(1'795'000'100'000);
  append(ended);
  ASSERT_TRUE(projector.catch_up());
  EXPECT_EQ(ids_in(q.active_sessions(acme, {}, std::nullopt)),
            (std::vector<std::string>{"a2", "s1"}));
}

TEST_F(read_side, an_active_row_that_does_not_read_fails_the_page) {
  append(started("s1", session_kind::shopping, "u1", 0));
  projections::projector projector(*log, views);
  ASSERT_TRUE(projector.catch_up());
  std::string key;
  views.scan("x/acme/active/", "", [&](std::string_view k, std::string_view) {
    key = std::string(k);
    return false;
  });
  ASSERT_FALSE(key.empty());
  ports::kv_batch b;
  b.put(key, "not a row");
  ASSERT_TRUE(views.write(b));
  projections::queries q(views, clock);
  EXPECT_ANY_THROW((void)q.active_sessions(acme, {}, std::nullopt));
}
