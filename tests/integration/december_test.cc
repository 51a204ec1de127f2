// What the seeds' users caught on day one (issue 17), against the real
// server, on both logs (the suite runs again as kafka/…): money owed on
// cancelled and host-absent bookings, whose appointments a host sees, the
// position a bulk action answers, strict queries, the fields the screens
// need, details and feedback.

#include "base/time.h"
#include "projections/keys.h"
#include "support/tally_process.h"
#include "support/views_dump.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

struct december_flow : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin, tutor7, tutor8, auditor;
  std::string last;

  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
    tutor7 = std::make_unique<http_client>(server->base_url());
    tutor7->token = server->token("host", "acme", "host-7");
    tutor8 = std::make_unique<http_client>(server->base_url());
    tutor8->token = server->token("host", "acme", "host-8");
    auditor = server->client("auditor");
  }
  response ok(response r, long status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return r;
  }
  boost::json::value read(http_client& c, const std::string& path) {
    auto r = c.get(path, {"Tally-Min-Position: " + last});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
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
  std::string customer(const std::string& name) {
    return str(at(ok(admin->post("/v1/customers", R"({"name":")" + name + R"("})"), 201).json(),
                  {"customer_id"}));
  }
  // A booked appointment an hour from now, booked in one command.
  std::string booked(const std::string& customer_id, long long price,
                     const std::string& host = "host-7") {
    auto r = ok(admin->post("/v1/bookings", R"({"customer_id":")" + customer_id +
                                                R"(","title":"Lesson","duration_minutes":60,)" +
                                                R"("scheduled_start":")" + now_plus(3600) +
                                                R"(","host_id":")" + host + R"(","price_cents":)" +
                                                std::to_string(price) + "}"),
                201);
    EXPECT_EQ(str(at(r.json(), {"status"})), "booked") << r.body;
    return str(at(r.json(), {"session_id"}));
  }
};

TEST_F(december_flow, a_cancelled_booking_owes_nothing_and_bulk_mark_paid_reports_it) {
  const auto c = customer("Cleo");
  const auto cancelled = booked(c, 5000);
  const auto open = booked(c, 3000);
  ok(admin->post("/v1/sessions/" + cancelled + "/cancel", R"({"reason":"client called"})"));
  auto s = read(*admin, "/v1/sessions/" + cancelled);
  EXPECT_EQ(num(at(s, {"amount_due_cents"})), 0);  // it showed 5000
  auto pay = admin->post("/v1/sessions/" + cancelled + "/payments",
                         R"({"amount_cents":5000,"method":"card"})");
  EXPECT_EQ(pay.status, 409) << pay.body;
  EXPECT_EQ(pay.code(), "nothing_due");
  // Bulk mark_paid: a result per session, the cancelled one refused; and the
  // answer names the position it appended, so a read can wait for it.
  auto bulk = ok(admin->post("/v1/sessions/bulk", R"({"session_ids":[")" + cancelled + R"(",")" +
                                                      open + R"("],"action":"mark_paid"})"));
  ASSERT_FALSE(bulk.header("tally-position").empty()) << "bulk answered no Tally-Position";
  const auto results = at(bulk.json(), {"results"}).as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(num(at(results.at(0), {"status"})), 409);
  EXPECT_EQ(str(at(results.at(0), {"problem", "code"})), "nothing_due");
  EXPECT_EQ(num(at(results.at(1), {"status"})), 200);
  // Read your writes after a bulk action (on Kafka it used to read unpaid).
  auto paid = read(*admin, "/v1/sessions/" + open);
  EXPECT_EQ(str(at(paid, {"payment_status"})), "paid");
  EXPECT_EQ(num(at(paid, {"paid_cents"})), 3000);
  EXPECT_EQ(num(at(read(*admin, "/v1/sessions/" + cancelled), {"paid_cents"})), 0);
}

TEST_F(december_flow, a_payment_in_advance_on_a_cancelled_booking_shows_as_refund_due) {
  const auto id = booked(customer("Cleo"), 4000);
  ok(admin->post("/v1/sessions/" + id + "/payments", R"({"amount_cents":4000,"method":"card"})"));
  ok(admin->post("/v1/sessions/" + id + "/cancel"));
  EXPECT_EQ(num(at(read(*admin, "/v1/sessions/" + id), {"refund_due_cents"})), 4000);
  ok(admin->post("/v1/sessions/" + id + "/refunds",
                 R"({"amount_cents":4000,"reason":"cancelled"})"));
  auto after = read(*admin, "/v1/sessions/" + id);
  EXPECT_EQ(num(at(after, {"refund_due_cents"})), 0);
  EXPECT_EQ(str(at(after, {"payment_status"})), "refunded");
}

TEST_F(december_flow, a_host_absent_no_show_and_the_automatic_end_honour_attendance) {
  const auto c = customer("Cleo");
  const auto absent_host = booked(c, 1000);
  const auto absent_customer = booked(c, 1000);
  advance(3600 + 60);
  // The customer joined, the tutor never did: the automatic end is a no-show
  // of the host, charged nothing.
  ok(admin->post("/v1/sessions/" + absent_host + "/attendance",
                 R"({"party":"customer","action":"joined","source":"meet"})"),
     201);
  ok(tutor7->post("/v1/sessions/" + absent_customer + "/attendance",
                  R"({"party":"host","action":"joined"})"),
     201);
  advance(3600);
  bool ended = eventually([&] {
    auto a = admin->get("/v1/sessions/" + absent_host).json();
    auto b = admin->get("/v1/sessions/" + absent_customer).json();
    return str(at(a, {"status"})) == "ended" && str(at(b, {"status"})) == "ended";
  });
  ASSERT_TRUE(ended);
  auto a = admin->get("/v1/sessions/" + absent_host).json();
  EXPECT_EQ(str(at(a, {"outcome"})), "no_show");
  EXPECT_EQ(str(at(a, {"absent_party"})), "host");
  EXPECT_EQ(at(a, {"charges"}).as_array().size(), 0u);
  EXPECT_EQ(num(at(a, {"amount_due_cents"})), 0);
  auto b = admin->get("/v1/sessions/" + absent_customer).json();
  EXPECT_EQ(str(at(b, {"outcome"})), "no_show");
  EXPECT_EQ(str(at(b, {"absent_party"})), "customer");
  ASSERT_EQ(at(b, {"charges"}).as_array().size(), 1u);
  EXPECT_EQ(num(at(at(b, {"charges"}).as_array().at(0), {"amount_cents"})), 500);
  // ?outcome= filters (it was ignored and returned every session).
  auto no_shows = read(*admin, "/v1/sessions?outcome=no_show");
  EXPECT_EQ(at(no_shows, {"items"}).as_array().size(), 2u);
  EXPECT_EQ(at(read(*admin, "/v1/sessions?outcome=completed"), {"items"}).as_array().size(), 0u);
}

TEST_F(december_flow, a_tutor_sees_and_acts_on_only_their_own_appointments) {
  const auto c = customer("Sam Student");
  const auto mine = booked(c, 1000, "host-7");
  const auto theirs = booked(c, 1000, "host-8");
  advance(3600 + 25 * 60);
  // The defect: host-8 marked host-7's student a no-show, and the fee was charged.
  auto foreign = tutor8->post("/v1/sessions/" + mine + "/no-show", R"({"party":"customer"})");
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(num(at(read(*admin, "/v1/sessions/" + mine), {"version"})), 3);  // unchanged
  for (const auto& path : {"/v1/sessions/" + mine, "/v1/sessions/" + mine + "/cost"})
    EXPECT_EQ(tutor8->get(path).status, 404) << path;
  EXPECT_EQ(tutor7->get("/v1/sessions/" + mine).status, 200);
  // Lists: another host's appointments are not in them.
  auto listed = read(*tutor8, "/v1/sessions?kind=appointment");
  std::set<std::string> ids;
  const auto listed_items = at(listed, {"items"});
  for (const auto& s : listed_items.as_array()) ids.insert(str(at(s, {"session_id"})));
  EXPECT_EQ(ids, (std::set<std::string>{theirs}));
  EXPECT_EQ(at(read(*admin, "/v1/sessions?kind=appointment"), {"items"}).as_array().size(), 2u);
  // Their own works.
  ok(tutor7->post("/v1/sessions/" + mine + "/no-show", R"({"party":"customer"})"));
  // The invoice of another host's appointment does not exist for a host.
  auto invoice = ok(admin->post("/v1/sessions/" + mine + "/invoice"), 201);
  const auto invoice_id = str(at(invoice.json(), {"invoice_id"}));
  EXPECT_EQ(tutor8->get("/v1/invoices/" + invoice_id, {"Tally-Min-Position: " + last}).status, 404);
  EXPECT_EQ(tutor7->get("/v1/invoices/" + invoice_id, {"Tally-Min-Position: " + last}).status, 200);
  EXPECT_EQ(at(read(*tutor8, "/v1/invoices"), {"items"}).as_array().size(), 0u);
  // A WebSocket channel of it is "not found"; the sessions channel skips it.
  ws_client ws(server->base_url(), "/v1/stream?access_token=" + tutor8->token);
  ASSERT_TRUE(ws.connected());
  ws.send(R"({"op":"subscribe","channels":["session:)" + mine + R"("]})");
  auto refused = ws.read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(str(at(refused->json(), {"code"})), "not_found") << refused->text;
  ws.send(R"({"op":"subscribe","channels":["sessions"]})");
  ASSERT_TRUE(ws.read());  // subscribed
  ok(admin->post("/v1/sessions/" + mine + "/payments", R"({"amount_cents":500,"method":"card"})"));
  ok(admin->post("/v1/sessions/" + theirs + "/cancel"));
  auto m = ws.read();
  ASSERT_TRUE(m);
  EXPECT_EQ(str(at(m->json(), {"event", "subject"})), "sessions/" + theirs) << m->text;
}

TEST_F(december_flow, time_travel_is_for_admins_and_auditors) {
  const auto id = booked(customer("Cleo"), 1000);
  EXPECT_EQ(tutor7->get("/v1/sessions/" + id + "?version=1").status, 403);
  EXPECT_EQ(tutor7->get("/v1/sessions/" + id, {"Tally-Min-Position: " + last}).status, 200);
  EXPECT_EQ(
      auditor->get("/v1/sessions/" + id + "?version=1", {"Tally-Min-Position: " + last}).status,
      200);
}

TEST_F(december_flow, every_list_refuses_a_parameter_or_value_it_does_not_know) {
  struct probe {
    std::string path;
    std::string field;
  };
  for (const auto& p : std::vector<probe>{
           {"/v1/sessions?status=cancelled", "status"},  // an outcome, not a status
           {"/v1/sessions?outcome=gone", "outcome"},
           {"/v1/sessions?kind=webinar", "kind"},
           {"/v1/sessions?payment_status=maybe", "payment_status"},
           {"/v1/sessions?invoiced=yes", "invoiced"},
           {"/v1/sessions?order=up", "order"},
           {"/v1/sessions?colour=red", "colour"},
           {"/v1/sessions/active?status=active", "status"},
           {"/v1/customers?name=x", "name"},
           {"/v1/inventory?sort=name", "sort"},
           {"/v1/invoices?customer=x", "customer"},
           {"/v1/resources?q=x", "q"},
           {"/v1/picklist?include=everything", "include"},
           {"/v1/analytics/summary?day=2026-01-01", "day"},
           {"/v1/events?from=0", "from"},
       }) {
    auto r = admin->get(p.path);
    EXPECT_EQ(r.status, 400) << p.path << ": " << r.body;
    EXPECT_EQ(r.code(), "invalid_request") << p.path;
    EXPECT_EQ(r.fields(), std::vector<std::string>{p.field}) << p.path << ": " << r.body;
  }
}

TEST_F(december_flow, session_lists_filter_by_host_invoiced_and_order_by_scheduled_start) {
  const auto c = customer("Cleo");
  const auto later = booked(c, 1000, "host-7");
  advance(1);
  // Booked for earlier than the first: scheduled order is not request order.
  auto r = ok(admin->post("/v1/bookings", R"({"customer_id":")" + c +
                                              R"(","title":"Early","duration_minutes":30,)" +
                                              R"("scheduled_start":")" + now_plus(600) +
                                              R"(","host_id":"host-8","price_cents":500})"),
              201);
  const auto earlier = str(at(r.json(), {"session_id"}));
  ok(admin->post("/v1/sessions/" + later + "/invoice"), 201);
  auto order = [&](const std::string& query) {
    std::vector<std::string> out;
    const auto items = at(read(*admin, "/v1/sessions?" + query), {"items"});
    for (const auto& s : items.as_array()) out.push_back(str(at(s, {"session_id"})));
    return out;
  };
  EXPECT_EQ(order("kind=appointment&order=asc"), (std::vector<std::string>{earlier, later}));
  EXPECT_EQ(order("kind=appointment&order=desc"), (std::vector<std::string>{later, earlier}));
  EXPECT_EQ(order("kind=appointment"), (std::vector<std::string>{later, earlier}));
  EXPECT_EQ(order("host_id=host-8"), (std::vector<std::string>{earlier}));
  EXPECT_EQ(order("invoiced=true"), (std::vector<std::string>{later}));
  EXPECT_EQ(order("invoiced=false&kind=appointment"), (std::vector<std::string>{earlier}));
  // from/to over the scheduled start, oldest first, paged.
  EXPECT_EQ(order("from=" + now_plus(0) + "&to=" + now_plus(1800) + "&order=asc"),
            (std::vector<std::string>{earlier}));
  auto first = read(*admin, "/v1/sessions?order=asc&limit=1&kind=appointment");
  ASSERT_FALSE(at(first, {"next_cursor"}).is_null());
  auto second = read(*admin, "/v1/sessions?order=asc&limit=1&kind=appointment&cursor=" +
                                 str(at(first, {"next_cursor"})));
  EXPECT_EQ(str(at(at(second, {"items"}).as_array().at(0), {"session_id"})), later);
}

TEST_F(december_flow, an_appointment_view_has_its_windows_and_patch_changes_its_details) {
  const auto id = booked(customer("Cleo"), 1000);
  auto v = read(*tutor7, "/v1/sessions/" + id);
  const auto start = *tally::parse_rfc3339(str(at(v, {"scheduled_start"})));
  EXPECT_EQ(str(at(v, {"join_opens_at"})), tally::format_rfc3339(start - std::chrono::minutes(5)));
  EXPECT_EQ(str(at(v, {"no_show_allowed_from"})),
            tally::format_rfc3339(start + std::chrono::minutes(19)));
  EXPECT_TRUE(at(v, {"min_payable_until"}).is_null());
  EXPECT_FALSE(at(v, {"joinable"}).as_bool());
  // The host of the session may change its details; another host may not see it.
  auto patched = ok(tutor7->patch("/v1/sessions/" + id,
                                  R"({"title":"Algebra","notes":"chapter 3","price_cents":1200})"));
  EXPECT_EQ(str(at(patched.json(), {"title"})), "Algebra");
  EXPECT_EQ(num(at(patched.json(), {"price_cents"})), 1200);
  EXPECT_EQ(num(at(patched.json(), {"amount_due_cents"})), 1200);
  EXPECT_EQ(tutor8->patch("/v1/sessions/" + id, R"({"title":"x"})").status, 404);
  auto bad = tutor7->patch("/v1/sessions/" + id, R"({"price_cents":-1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.fields(), std::vector<std::string>{"price_cents"});
  auto unknown = tutor7->patch("/v1/sessions/" + id, R"({"host_id":"host-8"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.fields(), std::vector<std::string>{"host_id"});
  auto history = at(read(*auditor, "/v1/sessions/" + id + "/events"), {"items"}).as_array();
  EXPECT_EQ(str(at(history.back(), {"type"})), "SessionDetailsChanged");
  EXPECT_EQ(str(at(history.back(), {"data", "changed_by"})), "host-7");
  advance(3600 - 5 * 60);
  EXPECT_TRUE(at(read(*tutor7, "/v1/sessions/" + id), {"joinable"}).as_bool());
}

TEST_F(december_flow, lines_say_when_they_were_added_and_picked_and_by_whom) {
  ASSERT_EQ(
      admin->put("/v1/inventory/mug", R"({"name":"Mug","unit_price_cents":1200,"location":"B3"})")
          .status,
      200);
  ok(admin->post("/v1/inventory/mug/receipts", R"({"quantity":10})"));
  const auto c = customer("Ann");
  auto started =
      ok(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + R"("})"), 201);
  const auto sid = str(at(started.json(), {"session_id"}));
  auto added =
      ok(admin->post("/v1/sessions/" + sid + "/items", R"({"item_id":"mug","quantity":2})"), 201);
  const auto line = str(at(added.json(), {"line_id"}));
  http_client picker(server->base_url());
  picker.token = server->token("warehouse", "acme", "picker-1");
  ok(picker.post("/v1/sessions/" + sid + "/items/" + line + "/pick"));
  auto l = at(read(*admin, "/v1/sessions/" + sid), {"lines"}).as_array().at(0);
  EXPECT_FALSE(at(l, {"added_at"}).is_null());
  EXPECT_FALSE(at(l, {"picked_at"}).is_null());
  EXPECT_EQ(str(at(l, {"picked_by", "user_id"})), "picker-1");
  // Picked in full: off the pick list, unless asked for.
  EXPECT_EQ(at(read(*admin, "/v1/picklist"), {"sessions"}).as_array().size(), 0u);
  auto all = at(read(*admin, "/v1/picklist?include=picked"), {"sessions"}).as_array();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(str(at(at(all.at(0), {"lines"}).as_array().at(0), {"picked_by", "user_id"})),
            "picker-1");
  // The active list carries each session's lines.
  auto active = at(read(*admin, "/v1/sessions/active"), {"items"}).as_array();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(str(at(at(active.at(0), {"lines"}).as_array().at(0), {"line_id"})), line);
}

TEST_F(december_flow, the_customer_rates_an_ended_session_once_and_the_numbers_show_it) {
  const auto c = customer("Cleo");
  const auto id = booked(c, 1000);
  http_client me(server->base_url());
  me.token = server->token("customer", "acme", c);
  EXPECT_EQ(me.post("/v1/sessions/" + id + "/feedback", R"({"rating":5})").status, 409);
  ok(admin->post("/v1/sessions/" + id + "/cancel"));
  EXPECT_EQ(admin->post("/v1/sessions/" + id + "/feedback", R"({"rating":5})").status, 403);
  auto bad = me.post("/v1/sessions/" + id + "/feedback", R"({"rating":0})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.fields(), std::vector<std::string>{"rating"});
  auto given =
      ok(me.post("/v1/sessions/" + id + "/feedback", R"({"rating":4,"comment":"clear"})"), 201);
  EXPECT_EQ(num(at(given.json(), {"feedback", "rating"})), 4);
  EXPECT_EQ(me.post("/v1/sessions/" + id + "/feedback", R"({"rating":5})").code(),
            "already_exists");
  auto summary = read(*admin, "/v1/analytics/summary");
  EXPECT_EQ(at(summary, {"average_rating"}).as_double(), 4.0);
  EXPECT_EQ(num(at(summary, {"ratings", "appointment", "count"})), 1);
  auto stats = read(*admin, "/v1/customers/" + c + "/stats");
  EXPECT_EQ(num(at(stats, {"ratings", "appointment", "count"})), 1);
}

// Read models written by a version that derived them otherwise (an older
// layout) are rebuilt from the log when the server starts, so that no stale
// entry survives; the same store at this layout is kept as it is.
TEST(december_upgrade, read_models_of_another_layout_are_rebuilt_from_the_log_at_start) {
  if (kafka_mode())
    GTEST_SKIP() << "edits the embedded data directory; its embedded run is the test";
  temp_dir dir;
  std::string session;
  auto boot_and_count = [&](const std::function<void()>& before) {
    before();
    tally_server server(dir.str());
    auto admin = server.client("admin");
    if (session.empty()) {
      auto c = admin->post("/v1/customers", R"({"name":"Ann"})").json();
      session = str(at(admin
                           ->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" +
                                                      str(at(c, {"customer_id"})) + R"("})")
                           .json(),
                       {"session_id"}));
      EXPECT_TRUE(eventually([&] { return admin->get("/v1/sessions/" + session).status == 200; }));
    }
    const auto items = at(admin->get("/v1/sessions").json(), {"items"});
    std::size_t n = 0;
    for (const auto& s : items.as_array()) n += str(at(s, {"session_id"})) == session;
    EXPECT_EQ(server.stop(), 0);
    return n;
  };
  // A stale index entry of the session, as an older ordering would have left it.
  auto plant = [&](const std::string& layout) {
    return [&, layout] {
      auto db = tally::infra::rocks_db::open((dir.path() / "views").string(), {"views"});
      ASSERT_TRUE(db.has_value());
      tally::infra::rocks_kv kv(**db, "views");
      tally::ports::kv_batch b;
      b.put("x/acme/sessions/0000000000000000001/" + session, "");
      b.put(std::string(tally::projections::layout::version_key), layout);
      ASSERT_TRUE(kv.write(b).has_value());
    };
  };
  EXPECT_EQ(boot_and_count([] {}), 1u);
  const std::string current(tally::projections::layout::version);
  EXPECT_EQ(boot_and_count(plant(current)), 2u);  // this layout: kept (the plant shows)
  EXPECT_EQ(boot_and_count(plant("1")), 1u);      // another: rebuilt from the log
  const auto views = dump_views(dir.path());
  EXPECT_EQ(views.at(std::string(tally::projections::layout::version_key)), current);
}

}  // namespace
