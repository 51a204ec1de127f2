// Seeds 002–004 against the real server: the booking workflow, the join
// window, completion and no-shows, automatic charging while the server was
// down, invoicing, gapless numbers under concurrency, and who may see what.

#include "base/time.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

using namespace tally::testing;

namespace {

struct booking_flow : ::testing::Test {
  using cents_t = long long;
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin, host;
  std::string last;

  void SetUp() override { boot(); }
  void boot() {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
    host = std::make_unique<http_client>(server->base_url());
    host->token = server->token("host", "acme", "host-7");
  }
  std::string now_plus(std::int64_t seconds) {
    auto clock = admin->get("/v1/admin/clock").json();
    auto t = *tally::parse_rfc3339(str(at(clock, {"now"})));
    return tally::format_rfc3339(t + std::chrono::seconds(seconds));
  }
  void advance(std::int64_t seconds) {
    ASSERT_EQ(
        admin->post("/v1/admin/clock", "{\"advance_seconds\":" + std::to_string(seconds) + "}")
            .status,
        200);
  }
  response ok(response r, long status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return r;
  }
  // A booked appointment starting in an hour: 60 minutes, the given price.
  std::string booked(cents_t price, const std::string& email = "cleo@example.com") {
    http_client pub(server->base_url());
    pub.token = server->token("public");
    auto req = ok(pub.post("/v1/bookings", R"({"customer":{"name":"Cleo","email":")" + email +
                                               R"("},"title":"Tax advice","duration_minutes":60})"),
                  201);
    const auto id = str(at(req.json(), {"session_id"}));
    ok(admin->post("/v1/sessions/" + id + "/book", R"({"scheduled_start":")" + now_plus(3600) +
                                                       R"(","duration_minutes":60,"price_cents":)" +
                                                       std::to_string(price) +
                                                       R"(,"host_id":"host-7"})"));
    return id;
  }
};

TEST_F(booking_flow, attendance_is_recorded_and_a_customer_who_joined_is_not_a_no_show) {
  const auto id = booked(1000);
  advance(3600 + 60);
  auto joined = ok(host->post("/v1/sessions/" + id + "/attendance",
                              R"({"party":"customer","action":"joined","source":"meet"})"),
                   201);
  const auto attendance = at(joined.json(), {"attendance"}).as_array();
  ASSERT_EQ(attendance.size(), 1u);
  EXPECT_EQ(str(at(attendance.at(0), {"party"})), "customer");
  EXPECT_EQ(str(at(attendance.at(0), {"action"})), "joined");
  EXPECT_EQ(str(at(attendance.at(0), {"source"})), "meet");
  // In the session's history too.
  auto history = admin->get("/v1/sessions/" + id + "/events", {"Tally-Min-Position: " + last});
  EXPECT_NE(history.body.find("AttendanceRecorded"), std::string::npos) << history.body;
  // Bad input names the field and changes nothing.
  auto bad =
      host->post("/v1/sessions/" + id + "/attendance", R"({"party":"crowd","action":"joined"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.fields(), std::vector<std::string>{"party"});
  http_client warehouse(server->base_url());
  warehouse.token = server->token("warehouse");
  EXPECT_EQ(
      warehouse.post("/v1/sessions/" + id + "/attendance", R"({"party":"host","action":"joined"})")
          .status,
      403);
  advance(25 * 60);
  auto refused = admin->post("/v1/sessions/" + id + "/no-show", R"({"party":"customer"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.code(), "attended");
  auto host_absent = ok(admin->post("/v1/sessions/" + id + "/no-show", R"({"party":"host"})"));
  EXPECT_EQ(str(at(host_absent.json(), {"outcome"})), "no_show");
}

TEST_F(booking_flow, public_request_quote_book_start_in_window_end_charge_invoice_pay) {
  http_client pub(server->base_url());
  pub.token = server->token("public");
  // The public may not say where it meets, who hosts it or what it costs.
  for (const char* extra : {R"("meeting_url":"https://meet.example/abc")", R"("host_id":"host-7")",
                            R"("price_cents":0)"}) {
    auto refused = pub.post(
        "/v1/bookings",
        std::string(
            R"({"customer":{"name":"Cleo","email":"cleo@example.com"},"title":"Tax advice","duration_minutes":60,)") +
            extra + "}");
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(refused.fields().size(), 1u) << refused.body;
  }
  auto req = ok(
      pub.post(
          "/v1/bookings",
          R"({"customer":{"name":"Cleo","email":"cleo@example.com"},"title":"Tax advice","duration_minutes":60})"),
      201);
  const auto id = str(at(req.json(), {"session_id"}));
  EXPECT_EQ(str(at(req.json(), {"status"})), "requested");
  auto linked =
      ok(admin->patch("/v1/sessions/" + id, R"({"meeting_url":"https://meet.example/abc"})"));
  EXPECT_EQ(str(at(linked.json(), {"meeting_url"})), "https://meet.example/abc");
  EXPECT_EQ(
      str(at(ok(admin->post("/v1/sessions/" + id + "/quote", R"({"price_cents":1000})")).json(),
             {"status"})),
      "quoted");
  auto booked =
      ok(admin->post("/v1/sessions/" + id + "/book",
                     R"({"scheduled_start":")" + now_plus(3600) + R"(","host_id":"host-7"})"));
  EXPECT_EQ(str(at(booked.json(), {"status"})), "booked");
  EXPECT_EQ(num(at(booked.json(), {"price_cents"})), 1000);
  // Too early: more than 5 minutes before.
  auto early = host->post("/v1/sessions/" + id + "/start");
  EXPECT_EQ(early.status, 422);
  EXPECT_EQ(early.code(), "too_early");
  advance(3600 - 5 * 60);
  auto started = ok(host->post("/v1/sessions/" + id + "/start"));
  EXPECT_EQ(str(at(started.json(), {"status"})), "active");
  advance(45 * 60);
  auto ended = ok(host->post("/v1/sessions/" + id + "/end"));
  EXPECT_EQ(str(at(ended.json(), {"outcome"})), "completed");
  const auto charge = at(ended.json(), {"charges"}).as_array().at(0);
  EXPECT_EQ(num(at(charge, {"amount_cents"})), 1000);
  auto invoice = ok(admin->post("/v1/sessions/" + id + "/invoice"), 201);
  EXPECT_EQ(str(at(invoice.json(), {"number"})), "INV-000001");
  EXPECT_EQ(admin->post("/v1/sessions/" + id + "/invoice").code(), "already_invoiced");
  auto paid = ok(
      admin->post("/v1/sessions/" + id + "/payments", R"({"amount_cents":1000,"method":"card"})"));
  EXPECT_EQ(str(at(paid.json(), {"payment_status"})), "paid");
  EXPECT_FALSE(at(paid.json(), {"paid_at"}).is_null());
  // Paying the session pays its invoice (it read unpaid).
  const auto invoice_id = str(at(invoice.json(), {"invoice_id"}));
  auto shown = admin->get("/v1/invoices/" + invoice_id, {"Tally-Min-Position: " + last}).json();
  EXPECT_EQ(num(at(shown, {"paid_cents"})), 1000);
  EXPECT_EQ(str(at(shown, {"payment_status"})), "paid");
}

TEST_F(booking_flow, the_automatic_charge_that_came_due_while_down_happens_once_after_restart) {
  const auto id = booked(999);
  ASSERT_EQ(server->stop(), 0);
  // Two hours pass while nobody runs the server.
  const auto offset_file = dir.path() / "test-clock-offset";
  std::int64_t offset_ms = 0;
  std::ifstream(offset_file) >> offset_ms;
  std::ofstream(offset_file, std::ios::trunc) << offset_ms + 2 * 3600 * 1000 << "\n";
  boot();
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    ended = str(at(admin->get("/v1/sessions/" + id).json(), {"status"})) == "ended";
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ended);
  auto s = admin->get("/v1/sessions/" + id).json();
  EXPECT_EQ(str(at(s, {"outcome"})), "completed_assumed");
  const auto scheduled_end =
      *tally::parse_rfc3339(str(at(s, {"scheduled_start"}))) + std::chrono::minutes(60);
  EXPECT_EQ(str(at(s, {"ended_at"})), tally::format_rfc3339(scheduled_end));
  ASSERT_EQ(at(s, {"charges"}).as_array().size(), 1u);
  // Restart again, later still: no second charge.
  ASSERT_EQ(server->stop(), 0);
  boot();
  advance(3600);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ok(admin->post("/v1/customers", R"({"name":"marker"})"), 201);
  auto again = admin->get("/v1/sessions/" + id, {"Tally-Min-Position: " + last}).json();
  EXPECT_EQ(at(again, {"charges"}).as_array().size(), 1u);
  const auto splits = at(at(again, {"charges"}).as_array().at(0), {"splits"}).as_array();
  long long sum = 0;
  for (const auto& sp : splits) sum += num(at(sp, {"amount_cents"}));
  EXPECT_EQ(sum, 999);
}

TEST_F(booking_flow, invoice_numbers_stay_gapless_under_concurrent_invoicing) {
  constexpr int sessions = 24;
  std::vector<std::string> ids;
  for (int i = 0; i < sessions; ++i)
    ids.push_back(booked(1000 + i, "c" + std::to_string(i) + "@example.com"));
  const auto customer =
      str(at(admin->post("/v1/customers", R"({"name":"Walk-in"})").json(), {"customer_id"}));
  std::vector<std::thread> threads;
  std::mutex m;
  std::vector<std::string> numbers;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      http_client c(server->base_url());
      c.token = admin->token;
      for (int i = t; i < sessions; i += 4) {
        auto a = c.post("/v1/sessions/" + ids[static_cast<std::size_t>(i)] + "/invoice");
        auto b = c.post(
            "/v1/invoices",
            R"({"customer_id":")" + customer +
                R"(","lines":[{"description":"Gift card","quantity":1,"unit_price_cents":500}]})");
        std::lock_guard lock(m);
        for (auto* r : {&a, &b}) {
          EXPECT_EQ(r->status, 201) << r->body;
          numbers.push_back(str(at(r->json(), {"number"})));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> unique(numbers.begin(), numbers.end());
  ASSERT_EQ(unique.size(), static_cast<std::size_t>(2 * sessions));
  int expected = 1;
  for (const auto& n : unique) {
    char want[16];
    std::snprintf(want, sizeof want, "INV-%06d", expected++);
    EXPECT_EQ(n, want);
  }
}

TEST_F(booking_flow, a_customer_books_for_themself_and_sees_only_their_own) {
  const auto mine = booked(1000, "me@example.com");
  const auto theirs = booked(1000, "other@example.com");
  const auto me = str(at(admin->get("/v1/sessions/" + mine, {"Tally-Min-Position: " + last}).json(),
                         {"customer", "customer_id"}));
  http_client customer(server->base_url());
  customer.token = server->token("customer", "acme", me);
  EXPECT_EQ(customer.get("/v1/sessions/" + mine).status, 200);
  EXPECT_EQ(customer.get("/v1/sessions/" + theirs).code(), "not_found");
  auto list = customer.get("/v1/sessions").json();
  ASSERT_EQ(at(list, {"items"}).as_array().size(), 1u);
  auto own = customer.post("/v1/bookings", R"({"title":"Follow-up","duration_minutes":30})");
  EXPECT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(str(at(own.json(), {"customer", "customer_id"})), me);
  EXPECT_EQ(customer
                .post("/v1/bookings",
                      R"({"customer_id":"someone-else","title":"x","duration_minutes":30})")
                .code(),
            "forbidden");
  EXPECT_EQ(customer.post("/v1/sessions/" + mine + "/start").code(), "forbidden");
  http_client pub(server->base_url());
  pub.token = server->token("public");
  EXPECT_EQ(pub.get("/v1/sessions/" + mine).code(), "forbidden");
  EXPECT_EQ(pub.post("/v1/bookings",
                     R"({"customer_id":")" + me + R"(","title":"x","duration_minutes":30})")
                .code(),
            "invalid_request");
}

TEST_F(booking_flow, a_no_show_before_the_wait_is_too_early_then_charges_the_fee) {
  const auto id = booked(1000);
  advance(3600 + 19 * 60 - 2);
  auto early = host->post("/v1/sessions/" + id + "/no-show");
  EXPECT_EQ(early.code(), "too_early");
  advance(3);
  auto r = ok(host->post("/v1/sessions/" + id + "/no-show", R"({"party":"customer"})"));
  EXPECT_EQ(str(at(r.json(), {"outcome"})), "no_show");
  EXPECT_EQ(num(at(at(r.json(), {"charges"}).as_array().at(0), {"amount_cents"})), 500);
}

}  // namespace

namespace {

TEST_F(booking_flow, private_notes_are_hidden_from_the_customer) {
  const auto id = booked(1000, "notes@example.com");
  const auto me = str(at(admin->get("/v1/sessions/" + id, {"Tally-Min-Position: " + last}).json(),
                         {"customer", "customer_id"}));
  advance(3600);
  ok(host->post("/v1/sessions/" + id + "/start"));
  ok(host->post("/v1/sessions/" + id + "/notes", R"({"text":"bring the 2025 receipts"})"), 201);
  ok(host->post("/v1/sessions/" + id + "/notes",
                R"({"text":"seems nervous about the audit","private":true})"),
     201);
  http_client customer(server->base_url());
  customer.token = server->token("customer", "acme", me);
  auto mine = customer.get("/v1/sessions/" + id, {"Tally-Min-Position: " + last}).json();
  const auto notes = at(mine, {"notes"}).as_array();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(str(at(notes[0], {"text"})), "bring the 2025 receipts");
  EXPECT_EQ(at(admin->get("/v1/sessions/" + id).json(), {"notes"}).as_array().size(), 2u);
}

TEST_F(booking_flow, customers_are_updated_and_deactivated) {
  auto c =
      ok(admin->post("/v1/customers", R"({"name":"Old Name","email":"old@example.com"})"), 201);
  const auto id = str(at(c.json(), {"customer_id"}));
  auto u = ok(host->put("/v1/customers/" + id, R"({"name":"New Name","email":"new@example.com"})"));
  EXPECT_EQ(str(at(u.json(), {"name"})), "New Name");
  EXPECT_EQ(admin->post("/v1/customers", R"({"name":"Copy","email":"NEW@example.com"})").code(),
            "already_exists");
  EXPECT_EQ(host->del("/v1/customers/" + id).code(), "forbidden");
  auto d = ok(admin->del("/v1/customers/" + id));
  EXPECT_FALSE(at(d.json(), {"active"}).as_bool());
  EXPECT_EQ(admin
                ->post("/v1/bookings",
                       R"({"customer_id":")" + id + R"(","title":"x","duration_minutes":30})")
                .code(),
            "invalid_state");
  auto sub = ok(admin->put("/v1/customers/" + id + "/subscription", R"({"subscribed":true})"));
  EXPECT_TRUE(at(sub.json(), {"subscribed"}).as_bool());
}

}  // namespace
