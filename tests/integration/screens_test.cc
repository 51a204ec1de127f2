// What the screens need, against the real server on both logs: time travel
// for admins and auditors, strict queries, session lists by host and
// schedule, an appointment's windows, PATCH (null clears; meeting links are
// web addresses), the lines' who and when, and feedback.

#include "support/api_flow.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

using screens = api_flow;

TEST_F(screens, time_travel_is_for_admins_and_auditors) {
  const auto id = booked(customer("Cleo"), 1000);
  EXPECT_EQ(tutor7->get("/v1/sessions/" + id + "?version=1").status, 403);
  EXPECT_EQ(tutor7->get("/v1/sessions/" + id, {"Tally-Min-Position: " + last}).status, 200);
  EXPECT_EQ(
      auditor->get("/v1/sessions/" + id + "?version=1", {"Tally-Min-Position: " + last}).status,
      200);
}

TEST_F(screens, every_list_refuses_a_parameter_or_value_it_does_not_know) {
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

TEST_F(screens, session_lists_filter_by_host_invoiced_and_order_by_scheduled_start) {
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

TEST_F(screens, an_appointment_view_has_its_windows_and_patch_changes_its_details) {
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

TEST_F(screens, lines_say_when_they_were_added_and_picked_and_by_whom) {
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

TEST_F(screens, the_customer_rates_an_ended_session_once_and_the_numbers_show_it) {
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

TEST_F(screens, patch_null_clears_a_title_or_meeting_link_and_an_empty_body_names_it) {
  const auto id = booked(customer("Cleo"), 1000);
  ok(tutor7->patch("/v1/sessions/" + id,
                   R"({"title":"Algebra","meeting_url":"https://meet.example/room-1"})"));
  auto cleared = ok(tutor7->patch("/v1/sessions/" + id, R"({"title":null,"meeting_url":null})"));
  EXPECT_TRUE(at(cleared.json(), {"title"}).is_null()) << cleared.body;  // it was 400
  EXPECT_TRUE(at(cleared.json(), {"meeting_url"}).is_null()) << cleared.body;
  auto history = at(read(*auditor, "/v1/sessions/" + id + "/events"), {"items"}).as_array();
  const auto cleared_fields = at(history.back(), {"data", "cleared"}).as_array();
  EXPECT_EQ(cleared_fields.size(), 2u);
  auto empty = tutor7->patch("/v1/sessions/" + id, "{}");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.fields(), std::vector<std::string>{"body"});
}

TEST_F(screens, a_meeting_link_is_an_http_or_https_address_wherever_it_is_set) {
  const auto c = customer("Cleo");
  const auto id = booked(c, 1000);
  for (const std::string bad : {"javascript:alert(1)", "data:text/html,hi", "https://"}) {
    auto patched = tutor7->patch("/v1/sessions/" + id, R"({"meeting_url":")" + bad + R"("})");
    EXPECT_EQ(patched.status, 400) << bad << ": " << patched.body;  // javascript: was taken
    EXPECT_EQ(patched.fields(), std::vector<std::string>{"meeting_url"}) << bad;
    auto booking = admin->post("/v1/bookings", R"({"customer_id":")" + c +
                                                   R"(","title":"Intro","duration_minutes":30,)"
                                                   R"("meeting_url":")" +
                                                   bad + R"("})");
    EXPECT_EQ(booking.status, 400) << bad << ": " << booking.body;
    EXPECT_EQ(booking.fields(), std::vector<std::string>{"meeting_url"}) << bad;
  }
  EXPECT_TRUE(at(read(*admin, "/v1/sessions/" + id), {"meeting_url"}).is_null());
}

TEST_F(screens, pick_list_groups_carry_the_salespersons_name) {
  ASSERT_EQ(admin->put("/v1/inventory/mug", R"({"name":"Mug","unit_price_cents":1200})").status,
            200);
  ok(admin->post("/v1/inventory/mug/receipts", R"({"quantity":5})"));
  const auto c = customer("Acme Corp");
  http_client john(server->base_url());
  john.token = server->token("host", "acme", "john", "1h", "John");
  auto started =
      ok(john.post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + R"("})"), 201);
  const auto sid = str(at(started.json(), {"session_id"}));
  ok(john.post("/v1/sessions/" + sid + "/items", R"({"item_id":"mug","quantity":1})"), 201);
  auto group = at(read(*admin, "/v1/picklist"), {"sessions"}).as_array().at(0);
  EXPECT_EQ(str(at(group, {"customer_name"})), "Acme Corp");
  EXPECT_EQ(str(at(group, {"host_name"})), "John");
}

}  // namespace
