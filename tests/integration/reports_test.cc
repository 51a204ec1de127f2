// Analytics, bulk actions and time travel against the real server.

#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

struct reports : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  std::string customer, resource, last;
  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
    customer = str(at(admin->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
    admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})");
    admin->post("/v1/inventory/tea/receipts", R"({"quantity":100})");
  }
  std::string shopping_with_tea() {
    auto s = str(
        at(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
               .json(),
           {"session_id"}));
    last = admin->post("/v1/sessions/" + s + "/items", R"({"item_id":"tea","quantity":1})")
               .header("tally-position");
    return s;
  }
  boost::json::value get(const std::string& path) {
    auto r = admin->get(path, {"Tally-Min-Position: " + last});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
};

TEST_F(reports, bulk_actions_give_a_result_per_session) {
  const auto a = shopping_with_tea(), b = shopping_with_tea();
  auto ended = admin->post("/v1/sessions/bulk", R"({"session_ids":[")" + a + R"(",")" + b +
                                                    R"(","nope"],"action":"end"})");
  ASSERT_EQ(ended.status, 200) << ended.body;
  const auto results = at(ended.json(), {"results"}).as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(num(at(results[0], {"status"})), 200);
  EXPECT_EQ(num(at(results[1], {"status"})), 200);
  EXPECT_EQ(num(at(results[2], {"status"})), 404);
  EXPECT_EQ(str(at(results[2], {"problem", "code"})), "not_found");
  auto paid =
      admin->post("/v1/sessions/bulk", R"({"session_ids":[")" + a + R"("],"action":"mark_paid"})");
  EXPECT_EQ(num(at(at(paid.json(), {"results"}).as_array().at(0), {"status"})), 200);
  last = admin->post("/v1/customers", R"({"name":"marker"})").header("tally-position");
  EXPECT_EQ(str(at(get("/v1/sessions/" + a), {"payment_status"})), "paid");
  auto again =
      admin->post("/v1/sessions/bulk", R"({"session_ids":[")" + a + R"("],"action":"cancel"})");
  EXPECT_EQ(num(at(at(again.json(), {"results"}).as_array().at(0), {"status"})), 409);
  EXPECT_EQ(admin->post("/v1/sessions/bulk", R"({"session_ids":[],"action":"end"})").code(),
            "invalid_request");
  EXPECT_EQ(admin->post("/v1/sessions/bulk", R"({"session_ids":["a"],"action":"explode"})").code(),
            "invalid_request");
}

TEST_F(reports, the_analytics_summary_counts_and_sums) {
  const auto a = shopping_with_tea(), b = shopping_with_tea();
  shopping_with_tea();
  admin->post("/v1/sessions/" + a + "/end");
  admin->post("/v1/sessions/" + b + "/cancel");
  admin->post("/v1/sessions/" + a + "/payments", R"({"amount_cents":100,"method":"cash"})");
  last = admin->post("/v1/customers", R"({"name":"marker"})").header("tally-position");
  auto auditor = server->client("auditor");
  auto r = auditor->get("/v1/analytics/summary", {"Tally-Min-Position: " + last});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  EXPECT_EQ(num(at(j, {"sessions_by_status", "ended"})), 2);
  EXPECT_EQ(num(at(j, {"sessions_by_status", "active"})), 1);
  EXPECT_EQ(num(at(j, {"sessions_by_outcome", "completed"})), 1);
  EXPECT_EQ(num(at(j, {"sessions_by_outcome", "cancelled"})), 1);
  EXPECT_EQ(num(at(j, {"charged_cents"})), 300);
  EXPECT_EQ(num(at(j, {"paid_cents"})), 100);
  EXPECT_EQ(num(at(j, {"outstanding_cents"})), 200);
  EXPECT_EQ(num(at(j, {"invoiced_cents"})), 300);
  EXPECT_EQ(num(at(j, {"repeat_customers"})), 1);
  // A range before everything is empty.
  auto none =
      auditor->get("/v1/analytics/summary?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z")
          .json();
  EXPECT_EQ(num(at(none, {"charged_cents"})), 0);
  EXPECT_EQ(admin->get("/v1/analytics/summary?from=yesterday").code(), "invalid_request");
}

TEST_F(reports, time_travel_by_version_and_time) {
  const auto s = shopping_with_tea();  // v1 started, v2 tea
  auto clock = str(at(admin->get("/v1/admin/clock").json(), {"now"}));
  admin->post("/v1/admin/clock", R"({"advance_seconds":60})");
  last = admin->post("/v1/sessions/" + s + "/items", R"({"item_id":"tea","quantity":2})")
             .header("tally-position");
  auto v1 = get("/v1/sessions/" + s + "?version=1");
  EXPECT_EQ(num(at(v1, {"version"})), 1);
  EXPECT_TRUE(at(v1, {"lines"}).as_array().empty());
  auto v2 = get("/v1/sessions/" + s + "?version=2");
  EXPECT_EQ(at(v2, {"lines"}).as_array().size(), 1u);
  auto then = get("/v1/sessions/" + s + "?as_of=" + clock);
  EXPECT_EQ(at(then, {"lines"}).as_array().size(), 1u);
  auto now = get("/v1/sessions/" + s);
  EXPECT_EQ(at(now, {"lines"}).as_array().size(), 2u);
  EXPECT_EQ(admin->get("/v1/sessions/" + s + "?version=0").code(), "invalid_request");
}

}  // namespace

namespace {

TEST_F(reports, the_session_list_filters_through_its_indexes) {
  const auto a = shopping_with_tea(), b = shopping_with_tea();
  const auto other = str(
      at(admin->post("/v1/customers", R"({"name":"Zed Other","email":"zed@example.com"})").json(),
         {"customer_id"}));
  auto c = str(at(
      admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + other + R"("})").json(),
      {"session_id"}));
  admin->post("/v1/sessions/" + a + "/end");
  last = admin->post("/v1/sessions/" + b + "/cancel").header("tally-position");
  auto ids_of = [&](const std::string& query) {
    std::set<std::string> out;
    const auto items = at(get("/v1/sessions" + query), {"items"});
    for (const auto& i : items.as_array()) out.insert(str(at(i, {"session_id"})));
    return out;
  };
  EXPECT_EQ(ids_of("?status=ended"), (std::set<std::string>{a, b}));
  EXPECT_EQ(ids_of("?status=active"), (std::set<std::string>{c}));
  EXPECT_EQ(ids_of("?customer_id=" + other), (std::set<std::string>{c}));
  EXPECT_EQ(ids_of("?payment_status=unpaid&status=ended"), (std::set<std::string>{a, b}));
  EXPECT_EQ(ids_of("?kind=shopping&q=zed"), (std::set<std::string>{c}));
  EXPECT_EQ(ids_of("?q=ZED@EXAMPLE"), (std::set<std::string>{c}));
  auto clock = str(at(admin->get("/v1/admin/clock").json(), {"now"}));
  EXPECT_EQ(ids_of("?from=2000-01-01T00:00:00Z&to=" + clock).size(), 3u);
  EXPECT_TRUE(ids_of("?to=2000-01-01T00:00:00Z").empty());
}

}  // namespace

namespace {

TEST_F(reports, standalone_invoices_take_payments_and_credit_notes) {
  auto inv = admin->post(
      "/v1/invoices",
      R"({"customer_id":")" + customer +
          R"(","lines":[{"description":"Gift card","quantity":2,"unit_price_cents":500}]})");
  ASSERT_EQ(inv.status, 201) << inv.body;
  const auto id = str(at(inv.json(), {"invoice_id"}));
  EXPECT_EQ(num(at(inv.json(), {"total_cents"})), 1000);
  auto paid =
      admin->post("/v1/invoices/" + id + "/payments", R"({"amount_cents":400,"method":"cash"})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(num(at(paid.json(), {"paid_cents"})), 400);
  auto cn = admin->post("/v1/invoices/" + id + "/credit-note", R"({"reason":"returned one"})");
  ASSERT_EQ(cn.status, 201) << cn.body;
  EXPECT_EQ(str(at(cn.json(), {"number"})), "CN-000001");
  EXPECT_EQ(str(at(cn.json(), {"kind"})), "credit_note");
  EXPECT_EQ(str(at(cn.json(), {"credits"})), id);
  EXPECT_EQ(admin->post("/v1/invoices/" + id + "/credit-note", R"({"reason":"again"})").code(),
            "credit_exceeds_invoice");
  last = cn.header("tally-position");
  const auto listed = at(get("/v1/invoices"), {"items"});
  ASSERT_EQ(listed.as_array().size(), 2u);
  EXPECT_EQ(str(at(listed.as_array().at(0), {"number"})), "CN-000001");
}

}  // namespace
