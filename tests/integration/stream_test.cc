// WebSocket GET /v1/stream against the real server: events reach
// subscribers, a reconnect with `after` gets exactly what it missed and then
// live events, a client that stops reading is cut off with the server's
// memory bounded, roles, alerts, ping.

#include "support/tally_process.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

struct stream : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  std::string customer, session;

  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
    customer = str(at(admin->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
    ASSERT_EQ(
        admin->put("/v1/inventory/mug", R"({"name":"Mug","unit_price_cents":1200,"location":"B3"})")
            .status,
        200);
    ASSERT_EQ(admin->post("/v1/inventory/mug/receipts", R"({"quantity":100})").status, 200);
    session = str(
        at(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
               .json(),
           {"session_id"}));
  }
  std::unique_ptr<ws_client> connect(const std::string& role = "admin",
                                     const std::string& query = "") {
    auto c = std::make_unique<ws_client>(server->base_url(),
                                         "/v1/stream?access_token=" + server->token(role) + query);
    EXPECT_TRUE(c->connected()) << c->handshake_response();
    return c;
  }
  static std::string subscribe(ws_client& c, const std::string& channels,
                               const std::string& after = "") {
    c.send(R"({"op":"subscribe","channels":)" + channels +
           (after.empty() ? "" : R"(,"after":")" + after + "\"") + "}");
    auto m = c.read_until([](const ws_message& m) { return str(at(m.json(), {"op"})) != ""; });
    return m ? m->text : "";
  }
  response add(int quantity) {
    return admin->post("/v1/sessions/" + session + "/items",
                       R"({"item_id":"mug","quantity":)" + std::to_string(quantity) + "}");
  }
};

TEST_F(stream, an_event_and_its_derived_pick_list_message_reach_the_subscriber) {
  auto c = connect("warehouse");
  auto ack = subscribe(*c, R"(["picklist"])");
  EXPECT_NE(ack.find(R"("op":"subscribed")"), std::string::npos) << ack;
  ASSERT_EQ(add(2).status, 201);
  auto event = c->read_until([](const ws_message& m) {
    return str(at(m.json(), {"event", "type"})) == "ItemAdded";
  });
  ASSERT_TRUE(event);
  EXPECT_EQ(str(at(event->json(), {"channel"})), "picklist");
  EXPECT_FALSE(str(at(event->json(), {"position"})).empty());
  auto line = c->read_until(
      [](const ws_message& m) { return str(at(m.json(), {"type"})) == "picklist.line_added"; });
  ASSERT_TRUE(line);
  EXPECT_EQ(str(at(line->json(), {"line", "location"})), "B3");
  EXPECT_EQ(num(at(line->json(), {"line", "remaining"})), 2);
}

TEST_F(stream, a_reconnect_with_after_gets_exactly_what_it_missed_then_live_events) {
  std::string last;
  {
    auto c = connect();
    subscribe(*c, R"(["sessions"])");
    auto added = add(1);
    ASSERT_EQ(added.status, 201);
    // The add's own event (an event of the session's start may still come
    // first where the read models lag, as on Kafka).
    const auto mine = added.header("tally-position");
    auto m = c->read_until([&](const ws_message& m) {
      return str(at(m.json(), {"channel"})) == "sessions" &&
             str(at(m.json(), {"position"})) == mine;
    });
    ASSERT_TRUE(m);
    last = str(at(m->json(), {"position"}));
  }
  // Missed while away: three more events on the session.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(add(1).status, 201);
  auto c = connect();
  subscribe(*c, R"(["sessions"])", last);
  std::vector<std::string> positions;
  for (int i = 0; i < 3; ++i) {
    auto m = c->read_until(
        [](const ws_message& m) { return str(at(m.json(), {"channel"})) == "sessions"; });
    ASSERT_TRUE(m) << "missed event " << i << " did not arrive";
    positions.push_back(str(at(m->json(), {"position"})));
  }
  EXPECT_EQ(std::set<std::string>(positions.begin(), positions.end()).size(), 3u);
  EXPECT_EQ(std::find(positions.begin(), positions.end(), last), positions.end());
  // Then live, with no duplicate of the replay.
  ASSERT_EQ(add(1).status, 201);
  auto live = c->read_until(
      [](const ws_message& m) { return str(at(m.json(), {"channel"})) == "sessions"; });
  ASSERT_TRUE(live);
  EXPECT_EQ(std::find(positions.begin(), positions.end(), str(at(live->json(), {"position"}))),
            positions.end());
  EXPECT_FALSE(c->read_until(
      [](const ws_message& m) { return str(at(m.json(), {"channel"})) == "sessions"; },
      std::chrono::milliseconds(300)));
}

TEST_F(stream, a_client_that_stops_reading_is_cut_off_and_memory_stays_bounded) {
  auto slow = std::make_unique<ws_client>(
      server->base_url(), "/v1/stream?access_token=" + server->token("admin"), 4096);
  ASSERT_TRUE(slow->connected());
  slow->send(R"({"op":"subscribe","channels":["sessions"]})");
  // Many sessions, so that no one session's state grows large.
  std::vector<std::string> sessions;
  for (int i = 0; i < 200; ++i)
    sessions.push_back(str(
        at(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
               .json(),
           {"session_id"})));
  const std::string text(3900, 'x');
  const long rss_before = server->rss_kb();
  for (int i = 0; i < 4000; ++i) {
    auto r = admin->post(
        "/v1/sessions/" + sessions[static_cast<std::size_t>(i) % sessions.size()] + "/notes",
        R"({"text":")" + text + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // Now read: the server must have given up on this client (close 1008 or a cut connection).
  bool cut = false;
  int messages = 0;
  for (int i = 0; i < 20000 && !cut; ++i) {
    auto m = slow->read(std::chrono::seconds(3));
    if (!m)
      cut = slow->closed();
    else if (m->is_close)
      cut = m->close_code == 1008;
    else
      ++messages;
    if (!m && !slow->closed()) break;
  }
  EXPECT_TRUE(cut) << "still connected after " << messages << " messages";
  EXPECT_LT(messages, 4000);
  const long rss_after = server->rss_kb();
  EXPECT_LT(rss_after - rss_before, 256 * 1024)
      << "server memory grew by " << (rss_after - rss_before) << " kB";
  // The server is fine, and the client reconnects with `after`.
  EXPECT_EQ(admin->get("/healthz").status, 200);
  auto again = connect();
  EXPECT_NE(subscribe(*again, R"(["sessions"])").find("subscribed"), std::string::npos);
}

TEST_F(stream, channels_are_allowed_by_role) {
  auto warehouse = connect("warehouse");
  auto refused = subscribe(*warehouse, R"(["sessions"])");
  EXPECT_NE(refused.find(R"("code":"forbidden")"), std::string::npos) << refused;
  auto auditor = connect("auditor");
  EXPECT_NE(subscribe(*auditor, R"(["picklist"])").find("forbidden"), std::string::npos);
  EXPECT_NE(subscribe(*auditor, "[\"session:" + session + "\"]").find("subscribed"),
            std::string::npos);
  auto nobody = std::make_unique<ws_client>(server->base_url(), "/v1/stream?access_token=nonsense");
  EXPECT_FALSE(nobody->connected());
  EXPECT_NE(nobody->handshake_response().find("401"), std::string::npos);
  // A name that is no channel is a bad request, not a refusal (issue #27),
  // and so is a session channel whose id cannot be a session's; a name that
  // is not printable is not echoed.
  auto unknown = connect();
  const auto weather = subscribe(*unknown, R"(["weather"])");
  EXPECT_NE(weather.find(R"("code":"invalid_request")"), std::string::npos) << weather;
  EXPECT_NE(weather.find("weather: is not a channel"), std::string::npos) << weather;
  const auto bad_id = subscribe(*unknown, R"(["session:a/b"])");
  EXPECT_NE(bad_id.find(R"("code":"invalid_request")"), std::string::npos) << bad_id;
  const auto unprintable = subscribe(*unknown, R"(["session:\u00e9\u0001"])");
  EXPECT_NE(unprintable.find(R"("code":"invalid_request")"), std::string::npos) << unprintable;
  EXPECT_EQ(unprintable.find("\u0001"), std::string::npos) << unprintable;
  EXPECT_NE(unprintable.find(R"("detail":"channels: )"), std::string::npos) << unprintable;
}

TEST_F(stream, a_sold_out_write_down_alerts_the_session) {
  ASSERT_EQ(add(100).status, 201);
  auto c = connect("host");
  subscribe(*c, "[\"session:" + session + "\"]");
  ASSERT_EQ(
      admin->post("/v1/inventory/mug/adjustments", R"({"delta":-1,"reason":"dropped"})").status,
      200);
  auto alert =
      c->read_until([](const ws_message& m) { return str(at(m.json(), {"type"})) == "alert"; });
  ASSERT_TRUE(alert);
  EXPECT_EQ(str(at(alert->json(), {"code"})), "sold_out");
  EXPECT_EQ(str(at(alert->json(), {"line", "item_id"})), "mug");
}

TEST_F(stream, ping_pong_and_bad_messages) {
  auto c = connect();
  c->send(R"({"op":"ping"})");
  auto pong = c->read();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->text, R"({"op":"pong"})");
  c->send("not json");
  auto bad = c->read();
  ASSERT_TRUE(bad);
  EXPECT_EQ(str(at(bad->json(), {"code"})), "invalid_request");
  // A plain GET without the upgrade is refused.
  EXPECT_EQ(admin->get("/v1/stream").status, 400);
}

}  // namespace
