// Appointments belong to their host, against the real server on both logs:
// a host sees and acts on only their own (sessions, invoices, the stream),
// and a customer's record and figures count only what that host may see.

#include "support/api_flow.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

using hosts = api_flow;

TEST_F(hosts, a_tutor_sees_and_acts_on_only_their_own_appointments) {
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

TEST_F(hosts, a_hosts_customer_record_and_figures_count_only_what_they_may_see) {
  const auto c = customer("Sam Student");
  const auto theirs = booked(c, 5000, "host-8");
  const auto mine = booked(c, 1000, "host-7");
  ok(admin->post("/v1/sessions/" + theirs + "/payments",
                 R"({"amount_cents":5000,"method":"card"})"));
  ok(admin->post("/v1/sessions/" + mine + "/payments", R"({"amount_cents":300,"method":"card"})"));
  auto all = read(*admin, "/v1/customers/" + c + "/stats");
  EXPECT_EQ(num(at(all, {"paid_cents"})), 5300);
  EXPECT_EQ(num(at(all, {"sessions", "total"})), 2);
  auto stats = read(*tutor7, "/v1/customers/" + c + "/stats");
  EXPECT_EQ(num(at(stats, {"paid_cents"})), 300);  // it showed host-8's 5 000 too
  EXPECT_EQ(num(at(stats, {"sessions", "total"})), 1);
  auto record = read(*tutor7, "/v1/customers/" + c);
  EXPECT_EQ(num(at(record, {"total_paid_cents"})), 300);
  EXPECT_EQ(num(at(record, {"total_sessions"})), 1);
  auto row = at(read(*tutor7, "/v1/customers"), {"items"}).as_array().at(0);
  EXPECT_EQ(num(at(row, {"total_paid_cents"})), 300);
  // A shopping session is everyone's: it counts for both hosts.
  ok(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + R"("})"), 201);
  EXPECT_EQ(num(at(read(*tutor8, "/v1/customers/" + c + "/stats"), {"sessions", "total"})), 2);
  EXPECT_EQ(num(at(read(*tutor7, "/v1/customers/" + c), {"total_sessions"})), 2);
  EXPECT_EQ(num(at(read(*admin, "/v1/customers/" + c), {"total_sessions"})), 3);
}

}  // namespace
