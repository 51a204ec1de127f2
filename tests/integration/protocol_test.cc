// The HTTP contract around commands: idempotency, optimistic concurrency,
// read-your-writes, headers, the OpenAPI document.

#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

using namespace tally::testing;

namespace {

struct protocol : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
  }
  // Events in the tenant's stream, once the read models include a new marker
  // command (so the count is not read from behind), less that marker.
  std::int64_t event_count() {
    auto marker = admin->put("/v1/inventory/marker-" + std::to_string(++markers_),
                             R"({"name":"m","unit_price_cents":1})");
    auto r = admin->get("/v1/events?limit=5000",
                        {"Tally-Min-Position: " + marker.header("tally-position")});
    return std::count(r.body.begin(), r.body.end(), '\n') - markers_;
  }
  int markers_ = 0;
};

TEST_F(protocol, every_response_carries_date_and_server_time) {
  for (auto r :
       {admin->get("/healthz"), admin->get("/v1/nothing"), admin->post("/v1/customers", "{")}) {
    EXPECT_FALSE(r.header("date").empty());
    const auto t = r.header("tally-server-time");
    ASSERT_EQ(t.size(), 24u) << t;
    EXPECT_EQ(t[10], 'T');
    EXPECT_EQ(t.back(), 'Z');
  }
}

TEST_F(protocol, commands_answer_with_position_and_etag) {
  auto r = admin->post("/v1/customers", R"({"name":"Al"})");
  ASSERT_EQ(r.status, 201);
  EXPECT_FALSE(r.header("tally-position").empty());
  EXPECT_EQ(r.header("etag"), "\"1\"");
  const auto id = str(at(r.json(), {"customer_id"}));
  auto u = admin->put("/v1/customers/" + id, R"({"phone":"555"})");
  EXPECT_EQ(u.header("etag"), "\"2\"");
}

TEST_F(protocol, the_same_idempotency_key_returns_the_first_answer_and_appends_nothing) {
  const std::vector<std::string> key{"Idempotency-Key: order-42"};
  auto first = admin->post("/v1/customers", R"({"name":"Al"})", key);
  ASSERT_EQ(first.status, 201);
  const auto events = event_count();
  auto again = admin->post("/v1/customers", R"({"name":"Al"})", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("tally-position"), first.header("tally-position"));
  EXPECT_EQ(event_count(), events);
  auto different = admin->post("/v1/customers", R"({"name":"Bo"})", key);
  EXPECT_EQ(different.status, 422);
  EXPECT_EQ(different.code(), "idempotency_key_reused");
  // A failed command is not remembered: the retry runs again.
  const std::vector<std::string> key2{"Idempotency-Key: retry-me"};
  EXPECT_EQ(admin->post("/v1/sessions/nope/end", "", key2).status, 404);
  EXPECT_EQ(admin->post("/v1/customers", R"({"name":"Cy"})", key2).status, 201);
}

TEST_F(protocol, idempotency_survives_a_restart) {
  const std::vector<std::string> key{"Idempotency-Key: k-restart"};
  auto first = admin->post("/v1/customers", R"({"name":"Al"})", key);
  ASSERT_EQ(first.status, 201);
  server->kill9();
  server = std::make_unique<tally_server>(dir.str());
  admin = server->client("admin");
  auto again = admin->post("/v1/customers", R"({"name":"Al"})", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(event_count(), 1);
}

TEST_F(protocol, concurrent_retries_with_one_key_append_once) {
  std::vector<std::thread> threads;
  std::vector<long> statuses(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto c = server->client("admin");
      statuses[static_cast<std::size_t>(i)] =
          c->post("/v1/customers", R"({"name":"Dup"})", {"Idempotency-Key: same"}).status;
    });
  }
  for (auto& t : threads) t.join();
  for (auto s : statuses) EXPECT_TRUE(s == 201 || s == 409) << s;
  EXPECT_EQ(event_count(), 1);
}

TEST_F(protocol, if_match_refuses_a_stale_version) {
  auto r = admin->post("/v1/resources", R"({"name":"PC","hourly_rate_cents":100})");
  const auto id = str(at(r.json(), {"resource_id"}));
  auto stale = admin->put("/v1/resources/" + id + "/rate", R"({"hourly_rate_cents":200})",
                          {"If-Match: \"7\""});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.code(), "version_conflict");
  auto fresh = admin->put("/v1/resources/" + id + "/rate", R"({"hourly_rate_cents":200})",
                          {"If-Match: \"1\""});
  EXPECT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.header("etag"), "\"2\"");
  EXPECT_EQ(
      admin->put("/v1/resources/" + id + "/rate", R"({"hourly_rate_cents":300})", {"If-Match: one"})
          .status,
      400);
}

TEST_F(protocol, a_read_with_min_position_sees_the_write) {
  for (int i = 0; i < 20; ++i) {
    auto r = admin->post("/v1/customers", R"({"name":"N"})");
    const auto id = str(at(r.json(), {"customer_id"}));
    auto g = admin->get("/v1/customers/" + id + "?min_position=" + r.header("tally-position"));
    EXPECT_EQ(g.status, 200) << g.body;
  }
}

TEST_F(protocol, lists_page_with_a_cursor) {
  for (int i = 0; i < 5; ++i)
    admin->post("/v1/customers", "{\"name\":\"C" + std::to_string(i) + "\"}");
  auto last = admin->post("/v1/customers", R"({"name":"C5"})");
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = admin->get("/v1/customers?limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor),
                        {"Tally-Min-Position: " + last.header("tally-position")});
    ASSERT_EQ(r.status, 200);
    const auto items = at(r.json(), {"items"});
    for (const auto& c : items.as_array()) seen.insert(str(at(c, {"name"})));
    cursor = str(at(r.json(), {"next_cursor"}));
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen.size(), 6u);
}

TEST_F(protocol, every_documented_path_is_routed) {
  auto doc = admin->get("/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  const auto paths = at(doc.json(), {"paths"}).as_object();
  EXPECT_GT(paths.size(), 20u);
  for (const auto& [path, ops] : paths) {
    std::string concrete(path);
    for (auto open = concrete.find('{'); open != std::string::npos; open = concrete.find('{'))
      concrete.replace(open, concrete.find('}', open) - open + 1, "x1");
    for (const auto& [method, op] : ops.as_object()) {
      std::string m(method);
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      auto r = admin->request(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}");
      EXPECT_NE(r.status, 405) << m << " " << path;
      if (r.status == 404) {
        EXPECT_EQ(r.body.find("no such path"), std::string::npos) << m << " " << path;
      }
    }
  }
}

TEST_F(protocol, sigterm_exits_zero) { EXPECT_EQ(server->stop(), 0); }

}  // namespace
