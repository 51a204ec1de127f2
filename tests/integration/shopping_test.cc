// Seed 001 ("Live Shopping Session") against the real server: every flow
// and every edge case of its section 6, the race for the last units, and the
// timeout driven by the test clock, once, across a restart.

#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

using namespace tally::testing;

namespace {

struct live_shopping : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin, sales, warehouse;
  std::string ann, ben, last;

  void SetUp() override { boot(); }
  void boot() {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
    sales = server->client("host");
    warehouse = server->client("warehouse");
  }
  void catalog() {
    ann = id(sales->post("/v1/customers", R"({"name":"Ann Buyer"})"), "customer_id");
    ben = id(sales->post("/v1/customers", R"({"name":"Ben Buyer"})"), "customer_id");
    ASSERT_EQ(warehouse
                  ->put("/v1/inventory/mug",
                        R"({"name":"Mug","unit":"pcs","unit_price_cents":1200,"location":"B3"})")
                  .status,
              200);
    ASSERT_EQ(warehouse->post("/v1/inventory/mug/receipts", R"({"quantity":5})").status, 200);
  }
  std::string id(const response& r, const char* field) {
    EXPECT_LT(r.status, 300) << r.body;
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return str(at(r.json(), {field}));
  }
  std::string start(const std::string& customer) {
    return id(
        sales->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})"),
        "session_id");
  }
  response add(const std::string& session, int quantity) {
    auto r = sales->post("/v1/sessions/" + session + "/items",
                         R"({"item_id":"mug","quantity":)" + std::to_string(quantity) + "}");
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return r;
  }
  boost::json::value get(http_client& c, const std::string& path) {
    auto r = c.get(path, {"Tally-Min-Position: " + last});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  void advance(std::int64_t seconds) {
    ASSERT_EQ(
        admin->post("/v1/admin/clock", "{\"advance_seconds\":" + std::to_string(seconds) + "}")
            .status,
        200);
  }
};

TEST_F(live_shopping, full_flow_reserve_adjust_pick_complete_creates_order_and_invoice) {
  catalog();
  const auto s = start(ann);
  auto added = add(s, 2);
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(num(at(added.json(), {"reserved"})), 2);
  const auto line = str(at(added.json(), {"line_id"}));
  auto mug = get(*warehouse, "/v1/inventory/mug");
  EXPECT_EQ(num(at(mug, {"reserved"})), 2);
  EXPECT_EQ(num(at(mug, {"available"})), 3);
  EXPECT_EQ(num(at(mug, {"on_hand"})), 5);
  // The warehouse sees the line at once, with its shelf.
  auto picks = get(*warehouse, "/v1/picklist");
  auto sessions = at(picks, {"sessions"}).as_array();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(str(at(sessions[0], {"customer_name"})), "Ann Buyer");
  auto lines = at(sessions[0], {"lines"}).as_array();
  EXPECT_EQ(str(at(lines.at(0), {"location"})), "B3");
  EXPECT_EQ(num(at(lines.at(0), {"remaining"})), 2);
  // Negotiated price.
  auto adj = sales->put("/v1/sessions/" + s + "/items/" + line + "/price",
                        R"({"unit_price_cents":1000,"reason":"regular"})");
  ASSERT_EQ(adj.status, 200) << adj.body;
  last = adj.header("tally-position");
  EXPECT_EQ(num(at(adj.json(), {"items_total_cents"})), 2000);
  EXPECT_EQ(
      num(at(adj.json(), {"lines"}).as_array().at(0).as_object().at("list_price_cents").as_int64()),
      1200);
  // A short pick keeps the rest on the list.
  auto pick =
      warehouse->post("/v1/sessions/" + s + "/items/" + line + "/pick", R"({"quantity":1})");
  ASSERT_EQ(pick.status, 200) << pick.body;
  last = pick.header("tally-position");
  lines =
      at(at(get(*warehouse, "/v1/picklist"), {"sessions"}).as_array().at(0), {"lines"}).as_array();
  EXPECT_EQ(num(at(lines.at(0), {"remaining"})), 1);
  // Complete: order, charge, invoice; stock consumed.
  auto done = sales->post("/v1/sessions/" + s + "/end");
  ASSERT_EQ(done.status, 200) << done.body;
  last = done.header("tally-position");
  EXPECT_EQ(str(at(done.json(), {"order_id"})), s);
  EXPECT_EQ(num(at(done.json(), {"cost", "total_cents"})), 2000);
  EXPECT_FALSE(str(at(done.json(), {"invoice_id"})).empty());
  mug = get(*warehouse, "/v1/inventory/mug");
  EXPECT_EQ(num(at(mug, {"on_hand"})), 3);
  EXPECT_EQ(num(at(mug, {"reserved"})), 0);
  // Still on the pick list until picked.
  EXPECT_EQ(at(get(*warehouse, "/v1/picklist"), {"sessions"}).as_array().size(), 1u);
  last = warehouse->post("/v1/sessions/" + s + "/items/" + line + "/pick").header("tally-position");
  EXPECT_TRUE(at(get(*warehouse, "/v1/picklist"), {"sessions"}).as_array().empty());
}

TEST_F(live_shopping, edge_complete_with_an_empty_cart_is_a_validation_error) {
  catalog();
  const auto s = start(ann);
  auto r = sales->post("/v1/sessions/" + s + "/end");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.code(), "empty_cart");
}

TEST_F(live_shopping, edge_two_sessions_want_the_same_item_first_come_first_served) {
  catalog();
  const auto a = start(ann), b = start(ben);
  EXPECT_EQ(add(a, 4).status, 201);
  auto late = add(b, 2);
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.code(), "insufficient_stock");
  EXPECT_EQ(add(b, 1).status, 201);
}

TEST_F(live_shopping, edge_sold_out_takes_back_only_the_shortfall_and_never_the_picked_units) {
  catalog();
  const auto a = start(ann), b = start(ben);
  const auto older = str(at(add(a, 2).json(), {"line_id"}));
  const auto newer = str(at(add(b, 3).json(), {"line_id"}));
  // One unit of the newest cart is in a bag.
  ASSERT_EQ(warehouse->post("/v1/sessions/" + b + "/items/" + newer + "/pick", R"({"quantity":1})")
                .status,
            200);
  auto down = warehouse->post("/v1/inventory/mug/adjustments",
                              R"({"delta":-2,"reason":"broken in transit"})");
  ASSERT_EQ(down.status, 200) << down.body;
  last = down.header("tally-position");
  EXPECT_EQ(num(at(down.json(), {"reserved"})), 3);
  // The newest line gave back its 2 unpicked units and keeps the picked one.
  auto lines_b = at(get(*sales, "/v1/sessions/" + b), {"lines"}).as_array();
  ASSERT_EQ(lines_b.size(), 1u);
  EXPECT_EQ(num(at(lines_b.at(0), {"quantity"})), 1);
  EXPECT_EQ(num(at(lines_b.at(0), {"picked_quantity"})), 1);
  auto lines_a = at(get(*sales, "/v1/sessions/" + a), {"lines"}).as_array();
  ASSERT_EQ(lines_a.size(), 1u);
  EXPECT_EQ(num(at(lines_a.at(0), {"quantity"})), 2);
  auto auditor = server->client("auditor");
  auto history = at(get(*auditor, "/v1/sessions/" + b + "/events"), {"items"}).as_array();
  EXPECT_EQ(str(at(history.back(), {"type"})), "ItemReduced");
  EXPECT_EQ(num(at(history.back(), {"data", "quantity"})), 2);
  EXPECT_EQ(str(at(history.back(), {"data", "reason"})), "sold_out");
  // On hand is 3 with 1 picked: down to 0 would take the bag.
  auto refused = warehouse->post("/v1/inventory/mug/adjustments",
                                 R"({"delta":-3,"reason":"broken in transit"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.code(), "stock_picked");
  EXPECT_EQ(refused.fields(), std::vector<std::string>{"delta"});
  EXPECT_EQ(num(at(get(*sales, "/v1/inventory/mug"), {"on_hand"})), 3);
}

TEST_F(live_shopping, edge_cancelled_session_releases_inventory_and_leaves_the_pick_list) {
  catalog();
  const auto s = start(ann);
  add(s, 5);
  auto c = sales->post("/v1/sessions/" + s + "/cancel", R"({"reason":"customer left"})");
  ASSERT_EQ(c.status, 200) << c.body;
  last = c.header("tally-position");
  EXPECT_EQ(str(at(c.json(), {"outcome"})), "cancelled");
  EXPECT_EQ(num(at(get(*warehouse, "/v1/inventory/mug"), {"available"})), 5);
  EXPECT_TRUE(at(get(*warehouse, "/v1/picklist"), {"sessions"}).as_array().empty());
  EXPECT_EQ(add(s, 1).code(), "invalid_state");
}

TEST_F(live_shopping, edge_salesperson_disconnects_and_the_session_persists) {
  catalog();
  const auto s = start(ann);
  add(s, 1);
  sales.reset();  // the salesperson's client is gone
  auto again = server->client("host");
  auto session = again->get("/v1/sessions/" + s, {"Tally-Min-Position: " + last});
  EXPECT_EQ(str(at(session.json(), {"status"})), "active");
  EXPECT_EQ(at(session.json(), {"lines"}).as_array().size(), 1u);
  // Every member of staff sees it, and one salesperson runs many at once.
  sales = std::move(again);
  start(ben);
  EXPECT_EQ(at(get(*admin, "/v1/sessions/active"), {"items"}).as_array().size(), 2u);
}

TEST_F(live_shopping, edge_timeout_releases_inventory_once_even_across_a_restart) {
  catalog();
  const auto s = start(ann);
  add(s, 3);
  // The deadline passes while the server is down: move the test clock's
  // offset (its only state, a file in the data directory) with no server up.
  advance(10 * 60);
  ASSERT_EQ(server->stop(), 0);
  const auto offset_file = dir.path() / "test-clock-offset";
  std::int64_t offset_ms = 0;
  std::ifstream(offset_file) >> offset_ms;
  ASSERT_EQ(offset_ms, 10 * 60 * 1000);
  std::ofstream(offset_file, std::ios::trunc) << offset_ms + 25 * 60 * 1000 << "\n";
  boot();
  // The scheduler fires shortly after the start.
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    auto r = sales->get("/v1/sessions/" + s);
    ended = str(at(r.json(), {"status"})) == "ended";
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ended);
  auto session = sales->get("/v1/sessions/" + s).json();
  EXPECT_EQ(str(at(session, {"outcome"})), "timed_out");
  EXPECT_EQ(num(at(sales->get("/v1/inventory/mug").json(), {"reserved"})), 0);
  // Exactly once: restart again and advance more; one SessionEnded only.
  ASSERT_EQ(server->stop(), 0);
  boot();
  advance(3600);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto auditor = server->client("auditor");
  auto marker = admin->post("/v1/customers", R"({"name":"marker"})");
  auto events = auditor->get("/v1/sessions/" + s + "/events",
                             {"Tally-Min-Position: " + marker.header("tally-position")});
  int ends = 0;
  const auto history = at(events.json(), {"items"});
  for (const auto& e : history.as_array()) ends += str(at(e, {"type"})) == "SessionEnded";
  EXPECT_EQ(ends, 1);
}

TEST_F(live_shopping, the_timeout_fires_from_the_test_clock_while_running) {
  catalog();
  ASSERT_EQ(admin->put("/v1/settings", R"({"shopping_timeout_minutes":5})").status, 200);
  const auto s = start(ann);
  add(s, 1);
  advance(4 * 60);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(str(at(sales->get("/v1/sessions/" + s).json(), {"status"})), "active");
  advance(2 * 60);
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    ended = str(at(sales->get("/v1/sessions/" + s).json(), {"status"})) == "ended";
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(ended);
}

TEST_F(live_shopping, race_for_the_last_units_never_oversells) {
  // 10 items with 3 units each; 12 clients each try to reserve 1 of every
  // item in their own session, all at once.
  constexpr int items = 10, units = 3, clients = 12;
  for (int i = 0; i < items; ++i) {
    const auto path = "/v1/inventory/sku-" + std::to_string(i);
    ASSERT_EQ(admin->put(path, R"({"name":"Limited","unit_price_cents":100})").status, 200);
    ASSERT_EQ(
        admin->post(path + "/receipts", "{\"quantity\":" + std::to_string(units) + "}").status,
        200);
  }
  std::vector<std::string> sessions;
  for (int c = 0; c < clients; ++c) {
    auto customer =
        id(admin->post("/v1/customers", "{\"name\":\"Racer " + std::to_string(c) + "\"}"),
           "customer_id");
    sessions.push_back(start(customer));
  }
  std::atomic<int> reserved{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      http_client h(server->base_url());
      h.token = sales->token;
      for (int i = 0; i < items; ++i) {
        auto r =
            h.post("/v1/sessions/" + sessions[static_cast<std::size_t>(c)] + "/items",
                   R"({"item_id":"sku-)" + std::to_string((i + c) % items) + R"(","quantity":1})");
        if (r.status == 201)
          ++reserved;
        else if (r.status == 409 && r.code() == "insufficient_stock")
          ++refused;
        else
          ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other, 0);
  EXPECT_EQ(reserved, items * units);
  EXPECT_EQ(refused, clients * items - items * units);
  auto marker = admin->post("/v1/customers", R"({"name":"marker"})");
  auto list = admin->get("/v1/inventory?limit=500",
                         {"Tally-Min-Position: " + marker.header("tally-position")});
  const auto listed = at(list.json(), {"items"});
  for (const auto& item : listed.as_array()) {
    EXPECT_EQ(num(at(item, {"reserved"})), units);
    EXPECT_EQ(num(at(item, {"available"})), 0);
  }
}

}  // namespace

namespace {

// Seed 001's rollout plan: live shopping for some hosts, or for none, while
// the sessions already running finish normally.
TEST_F(live_shopping, rollout_setting_limits_who_starts_and_running_sessions_finish) {
  catalog();
  const auto running = start(ann);
  ASSERT_EQ(add(running, 1).status, 201);

  auto off = admin->put("/v1/settings", R"({"live_shopping":"off"})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(str(at(off.json(), {"live_shopping"})), "off");
  auto refused =
      sales->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + ben + R"("})");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(str(at(refused.json(), {"code"})), "feature_disabled");
  // The running session carries on: items, end, invoice.
  ASSERT_EQ(add(running, 1).status, 201);
  auto ended = sales->post("/v1/sessions/" + running + "/end", "");
  ASSERT_EQ(ended.status, 200) << ended.body;

  // A list of hosts: one named host may, the others may not.
  auto pilot = std::make_unique<http_client>(server->base_url());
  pilot->token = server->token("host", "acme", "pilot-host");
  auto listed = admin->put("/v1/settings", R"({"live_shopping":["pilot-host"]})");
  ASSERT_EQ(listed.status, 200);
  last = listed.header("tally-position");
  EXPECT_EQ(
      pilot->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + ben + R"("})").status,
      201);
  EXPECT_EQ(
      sales->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + ben + R"("})").status,
      403);
  auto settings = get(*admin, "/v1/settings");
  EXPECT_EQ(boost::json::serialize(at(settings, {"live_shopping"})), R"(["pilot-host"])");

  // Bad values change nothing.
  auto bad = admin->put("/v1/settings", R"({"live_shopping":"some","timezone":"Mars/Base"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("live_shopping"), std::string::npos);
  EXPECT_NE(bad.body.find("timezone"), std::string::npos);
  EXPECT_EQ(admin->put("/v1/settings", R"({"live_shopping":7})").status, 400);
  settings = get(*admin, "/v1/settings");
  EXPECT_EQ(boost::json::serialize(at(settings, {"live_shopping"})), R"(["pilot-host"])");
  EXPECT_EQ(str(at(settings, {"timezone"})), "UTC");

  ASSERT_EQ(
      admin->put("/v1/settings", R"({"live_shopping":"all","timezone":"Asia/Kolkata"})").status,
      200);
  EXPECT_EQ(
      sales->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + ann + R"("})").status,
      201);
}

}  // namespace
