// Issue #27: nothing a client sends can make the log unreadable. Each
// request that used to write an event the server could not read back (and
// so stop every tenant's reads, and the next start) is tried again: it is
// refused, naming what is wrong, and every tenant goes on reading and
// writing, also after a restart. On both logs.

#include "domain/limits.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <jwt.h>

#include <fstream>

using namespace tally::testing;

namespace {

struct hostile_input : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;  // acme's
  std::string last;                    // the last position a command answered

  void SetUp() override { start(); }
  void start() {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
  }
  void restart() {
    ASSERT_EQ(server->stop(), 0);
    server.reset();
    start();
  }

  response ok(response r, long status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return r;
  }
  void expect_refused(const response& r, long status, const std::string& code,
                      const std::vector<std::string>& fields) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.code(), code) << r.body;
    EXPECT_EQ(r.fields(), fields) << r.body;
  }
  std::string customer(http_client& c, const std::string& name) {
    return str(at(ok(c.post("/v1/customers", R"({"name":")" + name + R"("})"), 201).json(),
                  {"customer_id"}));
  }

  // Every tenant still serves: another tenant's new customer reads back,
  // acme's too, /readyz is ready and the chain verifies.
  void expect_every_tenant_serves() {
    auto globex = server->client("admin", "globex");
    const auto g = customer(*globex, "Gail");
    EXPECT_EQ(globex->get("/v1/customers/" + g, {"Tally-Min-Position: " + last}).status, 200);
    const auto a = customer(*admin, "Ann");
    EXPECT_EQ(admin->get("/v1/customers/" + a, {"Tally-Min-Position: " + last}).status, 200);
    auto ready = admin->get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(str(at(ready.json(), {"status"})), "ready") << ready.body;
    auto verified = admin->get("/v1/audit/verify", {"Tally-Min-Position: " + last});
    EXPECT_EQ(verified.status, 200) << verified.body;
    EXPECT_TRUE(at(verified.json(), {"ok"}).as_bool()) << verified.body;
  }

  // A booking as the public sends it, with `extra` members.
  response public_booking(const std::string& extra = "",
                          const std::vector<std::string>& headers = {}) {
    http_client pub(server->base_url());
    pub.token = server->token("public");
    return pub.post(
        "/v1/bookings",
        R"({"customer":{"name":"Cleo","email":"cleo@example.com"},"title":"Tax advice",)"
        R"("duration_minutes":60)" +
            extra + "}",
        headers);
  }
};

TEST_F(hostile_input, a_raw_byte_idempotency_key_is_refused_and_every_tenant_goes_on) {
  // Bytes that are not UTF-8 (Latin-1 sent by accident), on the public's
  // booking: it used to answer 201 and write an event no reader could read.
  expect_refused(public_booking("", {"Idempotency-Key: \xff\xfe"}), 400, "invalid_request",
                 {"Idempotency-Key"});
  // Every command takes the key, bulk included; only visible ASCII, 1 to 255.
  expect_refused(admin->post("/v1/customers", R"({"name":"Al"})", {"Idempotency-Key: caf\xc3\xa9"}),
                 400, "invalid_request", {"Idempotency-Key"});
  expect_refused(admin->post("/v1/sessions/bulk", R"({"session_ids":["x"],"action":"end"})",
                             {"Idempotency-Key: a key"}),
                 400, "invalid_request", {"Idempotency-Key"});
  expect_refused(admin->post("/v1/customers", R"({"name":"Al"})",
                             {"Idempotency-Key: " + std::string(256, 'k')}),
                 400, "invalid_request", {"Idempotency-Key"});
  ok(admin->post("/v1/customers", R"({"name":"Al"})",
                 {"Idempotency-Key: " + std::string(255, 'k')}),
     201);
  ok(public_booking("", {"Idempotency-Key: booking-1"}), 201);
  expect_every_tenant_serves();
  restart();
  expect_every_tenant_serves();
}

TEST_F(hostile_input, amounts_and_totals_past_the_money_bound_are_refused) {
  const auto c = customer(*admin, "Bo");
  // Ten lines of 10^6 × 10^9 cents: each line past 10^12 (and their sum
  // past 2^53, which the reader used to refuse).
  std::string lines;
  for (int i = 0; i < 10; ++i)
    lines += std::string(i ? "," : "") +
             R"({"description":"Gold","quantity":1000000,"unit_price_cents":1000000000})";
  auto huge =
      admin->post("/v1/invoices", R"({"customer_id":")" + c + R"(","lines":[)" + lines + "]}");
  EXPECT_EQ(huge.status, 422) << huge.body;
  EXPECT_EQ(huge.code(), "amount_too_large") << huge.body;
  ASSERT_EQ(huge.fields().size(), 10u) << huge.body;
  EXPECT_EQ(huge.fields()[0], "lines[0].quantity");
  // At the bound: a line of exactly 10^12 is an invoice; two are past it.
  const std::string at_bound =
      R"({"description":"Gold","quantity":1000000,"unit_price_cents":1000000})";
  auto invoice = ok(
      admin->post("/v1/invoices", R"({"customer_id":")" + c + R"(","lines":[)" + at_bound + "]}"),
      201);
  EXPECT_EQ(num(at(invoice.json(), {"total_cents"})), tally::max_amount_cents);
  expect_refused(admin->post("/v1/invoices", R"({"customer_id":")" + c + R"(","lines":[)" +
                                                 at_bound + "," + at_bound + "]}"),
                 422, "amount_too_large", {"lines"});
  // Payments: 2^53-1 cents is past the bound (two of them used to sum past
  // 2^53); 10^12 + 1 too; 10^12 pays the invoice.
  const auto id = str(at(invoice.json(), {"invoice_id"}));
  expect_refused(admin->post("/v1/invoices/" + id + "/payments",
                             R"({"amount_cents":9007199254740991,"method":"cash"})"),
                 422, "amount_too_large", {"amount_cents"});
  expect_refused(admin->post("/v1/invoices/" + id + "/payments",
                             R"({"amount_cents":1000000000001,"method":"cash"})"),
                 422, "amount_too_large", {"amount_cents"});
  ok(admin->post("/v1/invoices/" + id + "/payments",
                 R"({"amount_cents":1000000000000,"method":"cash"})"));
  // The customer's lifetime is at the bound now: one cent more on another
  // invoice is past it.
  auto small = ok(
      admin->post("/v1/invoices",
                  R"({"customer_id":")" + c +
                      R"(","lines":[{"description":"Tea","quantity":1,"unit_price_cents":250}]})"),
      201);
  expect_refused(admin->post("/v1/invoices/" + str(at(small.json(), {"invoice_id"})) + "/payments",
                             R"({"amount_cents":1,"method":"cash"})"),
                 422, "amount_too_large", {"amount_cents"});
  // Prices: 10^12 per unit is a price, one more is not; quantities to 10^6.
  ok(admin->put("/v1/inventory/gold", R"({"name":"Gold","unit_price_cents":1000000000000})"));
  expect_refused(
      admin->put("/v1/inventory/gold", R"({"name":"Gold","unit_price_cents":1000000000001})"), 422,
      "amount_too_large", {"unit_price_cents"});
  expect_refused(admin->post("/v1/inventory/gold/receipts", R"({"quantity":1000001})"), 400,
                 "invalid_request", {"quantity"});
  ok(admin->post("/v1/inventory/gold/receipts", R"({"quantity":10})"));
  // A line of two units at 10^12 is past the bound.
  auto shop =
      ok(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + "\"}"), 201);
  const auto s = str(at(shop.json(), {"session_id"}));
  expect_refused(admin->post("/v1/sessions/" + s + "/items", R"({"item_id":"gold","quantity":2})"),
                 422, "amount_too_large", {"quantity"});
  ok(admin->post("/v1/sessions/" + s + "/items", R"({"item_id":"gold","quantity":1})"), 201);
  // The customer reads, is listed, and the day's numbers are whole.
  auto read = ok(admin->get("/v1/customers/" + c, {"Tally-Min-Position: " + last}));
  EXPECT_EQ(num(at(read.json(), {"total_paid_cents"})), tally::max_amount_cents);
  EXPECT_NE(admin->get("/v1/customers?limit=500").body.find(c), std::string::npos);
  auto summary = ok(admin->get("/v1/analytics/summary"));
  EXPECT_EQ(num(at(summary.json(), {"paid_cents"})), tally::max_amount_cents) << summary.body;
  expect_every_tenant_serves();
  restart();
  expect_every_tenant_serves();
  EXPECT_EQ(num(at(ok(admin->get("/v1/customers/" + c)).json(), {"total_paid_cents"})),
            tally::max_amount_cents);
}

TEST_F(hostile_input, times_a_client_gives_lie_between_2000_and_2100) {
  // A booking dated 0001-01-01 used to overflow the list's index and pin
  // itself to the top of the staff's list.
  for (const char* t : {"0001-01-01T00:00:00.000Z", "1999-12-31T23:59:59.999Z",
                        "2100-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"}) {
    SCOPED_TRACE(t);
    expect_refused(public_booking(std::string(R"(,"scheduled_start":")") + t + "\""), 400,
                   "invalid_request", {"scheduled_start"});
  }
  const auto first =
      ok(public_booking(R"(,"scheduled_start":"2000-01-01T00:00:00.000Z")"), 201).json();
  ok(public_booking(R"(,"scheduled_start":"2099-12-31T23:59:59.999Z")"), 201);
  // The list is in order: the latest first, the one of 2000 last.
  auto list = ok(admin->get("/v1/sessions?kind=appointment", {"Tally-Min-Position: " + last}));
  const auto items = at(list.json(), {"items"}).as_array();
  ASSERT_EQ(items.size(), 2u) << list.body;
  EXPECT_EQ(str(at(items[1], {"session_id"})), str(at(first, {"session_id"})));
  // Queries take times in the same range.
  expect_refused(admin->get("/v1/sessions?from=1999-12-31T00:00:00.000Z"), 400, "invalid_request",
                 {"from"});
  // The test clock never moves past it: ten years at a time, it stops
  // before 2100.
  response refused;
  for (int i = 0; i < 10 && refused.status == 0; ++i) {
    auto r = admin->post("/v1/admin/clock", R"({"advance_seconds":315360000})");
    if (r.status != 200) refused = r;
  }
  expect_refused(refused, 400, "invalid_request", {"advance_seconds"});
  EXPECT_LT(str(at(admin->get("/v1/admin/clock").json(), {"now"})), "2100-01-01");
}

TEST_F(hostile_input, bulk_honours_the_idempotency_key_like_every_command) {
  const auto c = customer(*admin, "Di");
  auto session = [&] {
    return str(
        at(ok(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + "\"}"), 201)
               .json(),
           {"session_id"}));
  };
  const auto a = session(), b = session();
  const std::vector<std::string> key{"Idempotency-Key: bulk-1"};
  auto first = ok(admin->post("/v1/sessions/bulk",
                              R"({"session_ids":[")" + a + R"("],"action":"cancel"})", key));
  // The same key with another list used to run again (it cancelled b).
  expect_refused(admin->post("/v1/sessions/bulk",
                             R"({"session_ids":[")" + b + R"("],"action":"cancel"})", key),
                 422, "idempotency_key_reused", {});
  EXPECT_EQ(str(at(ok(admin->get("/v1/sessions/" + b, {"Tally-Min-Position: " + last})).json(),
                   {"status"})),
            "active");
  // The same request again is the same answer, and changes nothing.
  auto again = ok(admin->post("/v1/sessions/bulk",
                              R"({"session_ids":[")" + a + R"("],"action":"cancel"})", key));
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(again.header("tally-position"), first.header("tally-position"));
  // And after a restart.
  restart();
  auto after = ok(admin->post("/v1/sessions/bulk",
                              R"({"session_ids":[")" + a + R"("],"action":"cancel"})", key));
  EXPECT_EQ(after.body, first.body);
}

TEST_F(hostile_input, text_limits_count_characters_not_bytes) {
  // 200 characters of Japanese are 600 bytes: a title, which used to get a
  // third of the limit.
  std::string title;
  for (int i = 0; i < 200; ++i) title += "\xe6\x97\xa5";  // 日
  const auto booked = ok(public_booking(), 201).json();
  const auto id = str(at(booked, {"session_id"}));
  auto patched = ok(admin->patch("/v1/sessions/" + id, R"({"title":")" + title + "\"}"));
  EXPECT_EQ(str(at(patched.json(), {"title"})), title);
  expect_refused(admin->patch("/v1/sessions/" + id, R"({"title":")" + title + "\xe6\x97\xa5\"}"),
                 400, "invalid_request", {"title"});
}

TEST_F(hostile_input, a_version_past_the_newest_is_not_found) {
  const auto c = customer(*admin, "Ed");
  auto shop =
      ok(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + "\"}"), 201);
  const auto s = str(at(shop.json(), {"session_id"}));
  auto auditor = server->client("auditor");
  EXPECT_EQ(
      auditor->get("/v1/sessions/" + s + "?version=1", {"Tally-Min-Position: " + last}).status,
      200);
  // It used to answer the current state.
  expect_refused(auditor->get("/v1/sessions/" + s + "?version=2"), 404, "not_found", {});
}

TEST_F(hostile_input, a_body_that_is_not_json_in_utf8_is_415) {
  for (const char* type :
       {"Content-Type: text/plain", "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: application/json; charset=iso-8859-1"}) {
    SCOPED_TRACE(type);
    auto r = admin->post("/v1/customers", R"({"name":"Fay"})", {type});
    EXPECT_EQ(r.status, 415) << r.body;
    EXPECT_EQ(r.code(), "unsupported_media_type") << r.body;
  }
  ok(admin->post("/v1/customers", R"({"name":"Fay"})",
                 {"Content-Type: application/json; charset=UTF-8"}),
     201);
  ok(admin->post("/v1/customers", R"({"name":"Fay"})",
                 {"Content-Type: application/merge-patch+json"}),
     201);
}

TEST_F(hostile_input, a_token_whose_name_cannot_be_kept_is_refused) {
  // The server's secret: the environment's (Kafka mode), else its file.
  std::string key;
  if (const char* env = std::getenv("TALLY_JWT_SECRET"))
    key = env;
  else
    std::ifstream(dir.str() + "/jwt-secret") >> key;
  if (key.empty()) GTEST_SKIP() << "the secret is not in the data directory";
  auto sign = [&](const std::string& grants) {
    jwt_t* j = nullptr;
    jwt_new(&j);
    jwt_add_grants_json(j, grants.c_str());
    jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(key.data()),
                static_cast<int>(key.size()));
    char* t = jwt_encode_str(j);
    std::string out(t ? t : "");
    std::free(t);
    jwt_free(j);
    return out;
  };
  http_client c(server->base_url());
  // A control character in the name (it goes into every event as actorname).
  c.token =
      sign(R"({"sub":"u1","tenant":"acme","roles":["admin"],"exp":4102444800,"name":"A\u0001"})");
  expect_refused(c.post("/v1/customers", R"({"name":"Gus"})"), 400, "invalid_request",
                 {"Authorization"});
  c.token = sign(R"({"sub":")" + std::string(256, 's') +
                 R"(","tenant":"acme","roles":["admin"],"exp":4102444800})");
  expect_refused(c.post("/v1/customers", R"({"name":"Gus"})"), 400, "invalid_request",
                 {"Authorization"});
  // And tally token makes none.
  auto made = run_tally(
      {"token", "--data", dir.str(), "--tenant", "acme", "--role", "admin", "--name", "tab\there"});
  EXPECT_NE(made.exit_code, 0) << made.out;
}

}  // namespace
