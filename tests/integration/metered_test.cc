// Seed 000 ("Sessions"): the three user flows of a metered session, against
// the real `tally serve`, with the test clock for elapsed time.

#include "support/tally_process.h"

#include <gtest/gtest.h>

using namespace tally::testing;

namespace {

struct metered_flows : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  std::string customer, subscriber, resource, last_position;

  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
    customer = create("/v1/customers", R"({"name":"Alice Visitor","email":"alice@example.com"})",
                      "customer_id");
    subscriber =
        create("/v1/customers", R"({"name":"Sam Subscriber","subscribed":true})", "customer_id");
    resource = create("/v1/resources", R"({"name":"PC-7","hourly_rate_cents":600})", "resource_id");
    ASSERT_EQ(
        admin
            ->put("/v1/inventory/cola",
                  R"({"name":"Cola","unit":"can","unit_price_cents":250,"location":"Fridge A"})")
            .status,
        200);
    ASSERT_EQ(admin->post("/v1/inventory/cola/receipts", R"({"quantity":10})").status, 200);
  }

  std::string create(const std::string& path, const std::string& body, const char* id_field) {
    auto r = admin->post(path, body);
    EXPECT_EQ(r.status, 201) << r.body;
    last_position = r.header("tally-position");
    return str(at(r.json(), {id_field}));
  }
  // Reads after the last write, as a screen would (read your writes).
  response read(const std::string& path) {
    return admin->get(path, {"Tally-Min-Position: " + last_position});
  }
  response command(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    auto r = admin->request(method, path, body);
    if (!r.header("tally-position").empty()) last_position = r.header("tally-position");
    return r;
  }
  void advance(std::int64_t seconds) {
    ASSERT_EQ(
        admin->post("/v1/admin/clock", "{\"advance_seconds\":" + std::to_string(seconds) + "}")
            .status,
        200);
  }
  std::string start(const std::string& who) {
    auto r = command(
        "POST", "/v1/sessions",
        R"({"kind":"metered","customer_id":")" + who + R"(","resource_id":")" + resource + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return str(at(r.json(), {"session_id"}));
  }
};

TEST_F(metered_flows, flow1_start_session_shows_in_active_list_and_occupies_the_resource) {
  const auto session = start(customer);
  auto active = read("/v1/sessions/active");
  ASSERT_EQ(active.status, 200);
  const auto items = at(active.json(), {"items"}).as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(str(at(items[0], {"session_id"})), session);
  EXPECT_EQ(str(at(items[0], {"customer", "name"})), "Alice Visitor");
  EXPECT_FALSE(at(items[0], {"customer", "subscribed"}).as_bool());
  EXPECT_EQ(str(at(items[0], {"resource", "name"})), "PC-7");
  auto res = read("/v1/resources/" + resource);
  EXPECT_EQ(str(at(res.json(), {"occupied_by"})), session);
  // The resource is not available to a second session.
  auto second = admin->post("/v1/sessions", R"({"kind":"metered","customer_id":")" + subscriber +
                                                R"(","resource_id":")" + resource + R"("})");
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(second.code(), "resource_occupied");
}

TEST_F(metered_flows, flow2_add_inventory_updates_the_total_and_deducts_stock_at_once) {
  const auto session = start(customer);
  auto added =
      command("POST", "/v1/sessions/" + session + "/items", R"({"item_id":"cola","quantity":3})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_FALSE(str(at(added.json(), {"line_id"})).empty());
  EXPECT_EQ(num(at(added.json(), {"consumed"})), 3);
  EXPECT_EQ(num(at(added.json(), {"session", "items_total_cents"})), 750);
  EXPECT_EQ(num(at(read("/v1/inventory/cola").json(), {"on_hand"})), 7);
  auto entry = at(read("/v1/sessions/active").json(), {"items"}).as_array().at(0);
  EXPECT_EQ(num(at(entry, {"item_count"})), 3);
  EXPECT_EQ(num(at(entry, {"items_total_cents"})), 750);
  // The price is locked: a later list-price change does not touch the line.
  ASSERT_EQ(
      command("PUT", "/v1/inventory/cola", R"({"name":"Cola","unit":"can","unit_price_cents":400})")
          .status,
      200);
  EXPECT_EQ(num(at(read("/v1/sessions/" + session).json(), {"items_total_cents"})), 750);
  // A line entered by mistake is removed and its stock comes back.
  auto removed =
      command("DELETE", "/v1/sessions/" + session + "/items/" + str(at(added.json(), {"line_id"})));
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(num(at(read("/v1/inventory/cola").json(), {"on_hand"})), 10);
  // More than is on hand is refused and changes nothing.
  auto too_many =
      admin->post("/v1/sessions/" + session + "/items", R"({"item_id":"cola","quantity":11})");
  EXPECT_EQ(too_many.status, 409);
  EXPECT_EQ(too_many.code(), "insufficient_stock");
}

TEST_F(metered_flows, flow3_end_session_shows_the_cost_invoices_and_frees_the_resource) {
  const auto session = start(customer);
  ASSERT_EQ(
      command("POST", "/v1/sessions/" + session + "/items", R"({"item_id":"cola","quantity":2})")
          .status,
      201);
  advance(90 * 60);
  // The cost summary before confirming: 90 minutes (plus the started one) at 600/h.
  auto cost = read("/v1/sessions/" + session + "/cost");
  ASSERT_EQ(cost.status, 200);
  const auto minutes = num(at(cost.json(), {"billed_minutes"}));
  EXPECT_TRUE(minutes == 90 || minutes == 91) << cost.body;
  EXPECT_EQ(num(at(cost.json(), {"time_charge_cents"})), minutes * 10);
  auto ended = command("POST", "/v1/sessions/" + session + "/end");
  ASSERT_EQ(ended.status, 200) << ended.body;
  auto j = ended.json();
  EXPECT_EQ(str(at(j, {"status"})), "ended");
  EXPECT_EQ(str(at(j, {"outcome"})), "completed");
  const auto total = num(at(j, {"cost", "total_cents"}));
  EXPECT_EQ(total, minutes * 10 + 500);
  EXPECT_EQ(num(at(j, {"charges"}).as_array().at(0).as_object().at("amount_cents")), total);
  const auto invoice_id = str(at(j, {"invoice_id"}));
  ASSERT_FALSE(invoice_id.empty());
  auto invoice = read("/v1/invoices/" + invoice_id);
  ASSERT_EQ(invoice.status, 200) << invoice.body;
  EXPECT_EQ(str(at(invoice.json(), {"number"})), "INV-000001");
  EXPECT_EQ(num(at(invoice.json(), {"total_cents"})), total);
  EXPECT_EQ(at(invoice.json(), {"lines"}).as_array().size(), 2u);
  EXPECT_TRUE(at(read("/v1/resources/" + resource).json(), {"occupied_by"}).is_null());
  EXPECT_TRUE(at(read("/v1/sessions/active").json(), {"items"}).as_array().empty());
  // An ended session refuses items and a second end.
  EXPECT_EQ(admin->post("/v1/sessions/" + session + "/end").code(), "invalid_state");
  EXPECT_EQ(admin->post("/v1/sessions/" + session + "/items", R"({"item_id":"cola","quantity":1})")
                .code(),
            "invalid_state");
}

TEST_F(metered_flows, a_subscribed_customer_pays_only_for_items) {
  const auto session = start(subscriber);
  ASSERT_EQ(
      command("POST", "/v1/sessions/" + session + "/items", R"({"item_id":"cola","quantity":1})")
          .status,
      201);
  advance(3 * 3600);
  auto ended = command("POST", "/v1/sessions/" + session + "/end");
  ASSERT_EQ(ended.status, 200);
  EXPECT_EQ(num(at(ended.json(), {"cost", "time_charge_cents"})), 0);
  EXPECT_EQ(num(at(ended.json(), {"cost", "total_cents"})), 250);
}

TEST_F(metered_flows, payments_make_the_session_paid_and_count_for_the_customer) {
  const auto session = start(customer);
  advance(60 * 60 - 1);
  auto ended = command("POST", "/v1/sessions/" + session + "/end");
  ASSERT_EQ(ended.status, 200);
  EXPECT_EQ(num(at(ended.json(), {"cost", "total_cents"})), 600);
  auto paid = command("POST", "/v1/sessions/" + session + "/payments",
                      R"({"amount_cents":600,"method":"cash"})");
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(str(at(paid.json(), {"payment_status"})), "paid");
  auto c = read("/v1/customers/" + customer);
  EXPECT_EQ(num(at(c.json(), {"total_sessions"})), 1);
  EXPECT_EQ(num(at(c.json(), {"total_paid_cents"})), 600);
}

TEST_F(metered_flows, the_session_history_and_the_event_stream_are_cloudevents) {
  const auto session = start(customer);
  command("POST", "/v1/sessions/" + session + "/items", R"({"item_id":"cola","quantity":1})");
  command("POST", "/v1/sessions/" + session + "/end");
  auto auditor = server->client("auditor");
  auto history =
      auditor->get("/v1/sessions/" + session + "/events", {"Tally-Min-Position: " + last_position});
  ASSERT_EQ(history.status, 200);
  const auto events = at(history.json(), {"items"}).as_array();
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(str(at(e, {"type"})));
  EXPECT_EQ(types, (std::vector<std::string>{"SessionStarted", "ItemAdded", "SessionEnded",
                                             "ChargeProcessed"}));
  const auto& first = events.at(0);
  EXPECT_EQ(str(at(first, {"specversion"})), "1.0");
  EXPECT_EQ(str(at(first, {"source"})), "/tenants/acme");
  EXPECT_EQ(str(at(first, {"subject"})), "sessions/" + session);
  EXPECT_EQ(num(at(first, {"streamversion"})), 1);
  EXPECT_FALSE(str(at(first, {"position"})).empty());
  EXPECT_EQ(str(at(events.at(1), {"data", "location"})), "Fridge A");
  // The whole tenant stream, NDJSON, in log order.
  auto all = auditor->get("/v1/events?limit=1000", {"Tally-Min-Position: " + last_position});
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.header("content-type"), "application/x-ndjson");
  EXPECT_EQ(std::count(all.body.begin(), all.body.end(), '\n'), 10);  // 5 setup + 5 session
}

TEST_F(metered_flows, the_test_clock_survives_a_restart_and_never_goes_back) {
  advance(3600);
  auto before = admin->get("/v1/admin/clock");
  EXPECT_EQ(num(at(before.json(), {"offset_seconds"})), 3600);
  EXPECT_EQ(server->stop(), 0);
  server = std::make_unique<tally_server>(dir.str());
  admin = server->client("admin");
  EXPECT_EQ(num(at(admin->get("/v1/admin/clock").json(), {"offset_seconds"})), 3600);
  EXPECT_EQ(admin->post("/v1/admin/clock", R"({"advance_seconds":-5})").code(), "invalid_request");
  // Without the flag the clock does not exist.
  EXPECT_EQ(server->stop(), 0);
  server = std::make_unique<tally_server>(dir.str(), false);
  admin = server->client("admin");
  EXPECT_EQ(admin->get("/v1/admin/clock").status, 404);
}

}  // namespace
