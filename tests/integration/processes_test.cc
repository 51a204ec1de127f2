// Kafka mode's processes: `tally projector`, a read replica over every
// partition, beside a writer; crashes of either.

#include "base/time.h"
#include "support/tally_process.h"
#include "support/views_dump.h"
#include "support/webhook_receiver.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

using namespace tally::testing;
namespace fs = std::filesystem;

namespace {

struct processes : ::testing::Test {
  // One secret for every process of the deployment (and for `tally token`).
  void SetUp() override { ::setenv("TALLY_JWT_SECRET", "processes-test-secret", 1); }
  void TearDown() override {}

  temp_dir writer_dir, projector_dir;
  server_options writer() {
    server_options o;
    o.kafka = true;  // the deployment's cluster (or topic) belongs to writer_dir
    return o;
  }
  std::vector<std::string> projector_args;  // more flags for the projector
  server_options projector() {
    server_options o;
    o.subcommand = "projector";
    o.kafka_of = writer_dir.str();
    o.extra_args = projector_args;
    return o;
  }
};

TEST_F(processes, a_projector_serves_what_the_writer_wrote_and_refuses_commands) {
  tally_server w(writer_dir.str(), true, writer());
  tally_server p(projector_dir.str(), true, projector());
  auto at_writer = w.client("admin", "acme");
  auto at_replica = p.client("admin", "acme");
  auto created = at_writer->post("/v1/customers", R"({"name":"Ann"})");
  ASSERT_EQ(created.status, 201);
  const auto id = str(at(created.json(), {"customer_id"}));
  auto read = at_replica->get("/v1/customers/" + id,
                              {"Tally-Min-Position: " + created.header("tally-position")});
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(str(at(read.json(), {"name"})), "Ann");
  auto events = at_replica->get("/v1/events");
  EXPECT_NE(events.body.find("CustomerRegistered"), std::string::npos);
  auto refused = at_replica->post("/v1/customers", R"({"name":"Bo"})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.code(), "unavailable");
  EXPECT_EQ(at_replica->get("/readyz").status, 200);
}

TEST_F(processes, a_projector_killed_mid_stream_restarts_to_read_models_equal_a_fresh_rebuild) {
  tally_server w(writer_dir.str(), true, writer());
  auto admin = w.client("admin", "acme");
  ASSERT_EQ(admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})").status,
            200);
  auto p = std::make_unique<tally_server>(projector_dir.str(), true, projector());
  std::atomic<bool> done{false};
  std::string last_position;
  std::thread load([&] {
    http_client c(w.base_url());
    c.token = admin->token;
    for (int i = 0; i < 300; ++i) {
      auto r = (i % 2) ? c.post("/v1/inventory/tea/receipts", R"({"quantity":1})")
                       : c.post("/v1/customers", "{\"name\":\"c" + std::to_string(i) + "\"}");
      if (r.status < 300) last_position = r.header("tally-position");
    }
    done = true;
  });
  // Crash the replica while events stream in, then start it again.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  p->kill9();
  p = std::make_unique<tally_server>(projector_dir.str(), true, projector());
  load.join();
  ASSERT_FALSE(last_position.empty());
  auto replica = p->client("admin", "acme");
  auto tea = replica->get("/v1/inventory/tea", {"Tally-Min-Position: " + last_position});
  ASSERT_EQ(tea.status, 200) << tea.body;
  EXPECT_EQ(num(at(tea.json(), {"on_hand"})), 150);
  ASSERT_EQ(p->stop(), 0);
  const auto live = dump_views(projector_dir.path());

  temp_dir fresh;
  std::vector<std::string> args{"rebuild", "--data", fresh.str()};
  for (auto& a : kafka_args(writer_dir.str())) args.push_back(a);
  auto rebuilt = run_tally(args);
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out;
  const auto from_scratch = dump_views(fresh.path());
  EXPECT_EQ(live.size(), from_scratch.size());
  EXPECT_TRUE(live == from_scratch) << "the replica's read models differ from a fresh rebuild";
}

// Two gateways and a projector on one cluster.
struct deployment : processes {
  temp_dir g1_dir, g2_dir;
  std::unique_ptr<tally_server> projector_process, g1, g2;

  server_options gateway_options() {
    server_options o;
    o.subcommand = "gateway";
    o.kafka_of = writer_dir.str();
    o.extra_args = {"--projector", projector_process->base_url(), "--webhook-allow-hosts",
                    "127.0.0.1"};
    return o;
  }
  void SetUp() override {
    processes::SetUp();
    kafka_for(writer_dir.str());
    projector_process = std::make_unique<tally_server>(projector_dir.str(), true, projector());
    g1 = std::make_unique<tally_server>(g1_dir.str(), true, gateway_options());
    g2 = std::make_unique<tally_server>(g2_dir.str(), true, gateway_options());
    // The tests start once the group has settled: on Apache Kafka the second
    // gateway's join is a rebalance that takes the first's partitions away
    // for a moment (the mock's is instant), and a command then is 503 "the
    // tenant's partition is moving" (issue #25 makes it wait instead).
    ASSERT_TRUE(eventually(
        [&] { return decided(*g1) > 0 && decided(*g2) > 0 && decided(*g1) + decided(*g2) == 4; },
        std::chrono::seconds(60)))
        << decided(*g1) << " and " << decided(*g2) << " of 4 partitions decided";
  }
  // How many of the 4 partitions a gateway decides now.
  static int decided(const tally_server& g) {
    int n = 0;
    for (int p = 0; p < 4; ++p)
      n += g.metric("tally_partition_decided{partition=\"" + std::to_string(p) + "\"}") == 1;
    return n;
  }
};

// Fails the test unless the answer has the status; returns it.
response expect(response r, long status) {
  EXPECT_EQ(r.status, status) << r.body;
  return r;
}

TEST_F(deployment, the_main_flows_run_with_commands_sent_to_either_gateway) {
  auto one = g1->client("admin", "acme");
  auto two = g2->client("admin", "acme");
  // A metered session.
  const auto customer =
      str(at(expect(one->post("/v1/customers", R"({"name":"Ann"})"), 201).json(), {"customer_id"}));
  const auto pc = str(at(
      expect(two->post("/v1/resources", R"({"name":"PC 1","hourly_rate_cents":600})"), 201).json(),
      {"resource_id"}));
  expect(
      one->put("/v1/inventory/chips", R"({"name":"Chips","unit_price_cents":150,"location":"A1"})"),
      200);
  expect(two->post("/v1/inventory/chips/receipts", R"({"quantity":50})"), 200);
  const auto metered =
      str(at(expect(one->post("/v1/sessions", R"({"kind":"metered","customer_id":")" + customer +
                                                  R"(","resource_id":")" + pc + R"("})"),
                    201)
                 .json(),
             {"session_id"}));
  expect(two->post("/v1/sessions/" + metered + "/items", R"({"item_id":"chips","quantity":2})"),
         201);
  auto ended = expect(one->post("/v1/sessions/" + metered + "/end"), 200);
  auto seen = two->get("/v1/sessions/" + metered,
                       {"Tally-Min-Position: " + ended.header("tally-position")});
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(str(at(seen.json(), {"status"})), "ended");
  EXPECT_EQ(seen.body, two->get("/v1/sessions/" + metered).body);
  // HEAD through a gateway: the projector's GET answer, without its body.
  auto head = two->request("HEAD", "/v1/sessions/" + metered);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(seen.body.size()));
  EXPECT_EQ(head.header("etag"), seen.header("etag"));
  // The console is served by the gateway itself, and the chain checks
  // through it (the projector answers, with the key it was given).
  http_client anon(g2->base_url());
  auto page = anon.get("/console/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  auto chain = g1->client("auditor", "acme")->get("/v1/audit/verify");
  EXPECT_EQ(chain.status, 200) << chain.body;
  EXPECT_TRUE(at(chain.json(), {"ok"}).as_bool()) << chain.body;
  auto signed_head =
      g2->client("auditor", "acme")
          ->get("/v1/audit/head", {"Tally-Min-Position: " + ended.header("tally-position")});
  EXPECT_EQ(signed_head.status, 200) << signed_head.body;
  EXPECT_EQ(str(at(signed_head.json(), {"hash"})), str(at(chain.json(), {"head"})));
  // gzip once, by the process that answers, whichever process relays it.
  auto events = two->get("/v1/sessions/" + metered + "/events");
  ASSERT_GT(events.body.size(), 1024u);
  auto packed = two->get("/v1/sessions/" + metered + "/events", {"Accept-Encoding: gzip"});
  EXPECT_EQ(packed.header("content-encoding"), "gzip");
  EXPECT_EQ(packed.header("vary"), "Accept-Encoding");
  EXPECT_EQ(gunzip(packed.body), events.body);

  // A shopping session, its pick list live over the gateway's WebSocket.
  ws_client feed(g2->base_url(), "/v1/stream?access_token=" + g2->token("warehouse"));
  ASSERT_TRUE(feed.connected()) << feed.handshake_response();
  feed.send(R"({"op":"subscribe","channels":["picklist"]})");
  ASSERT_TRUE(feed.read_until(
      [](const ws_message& m) { return m.text.find("\"subscribed\"") != std::string::npos; }));
  const auto shop =
      str(at(expect(two->post("/v1/sessions",
                              R"({"kind":"shopping","customer_id":")" + customer + R"("})"),
                    201)
                 .json(),
             {"session_id"}));
  const auto line = str(
      at(expect(one->post("/v1/sessions/" + shop + "/items", R"({"item_id":"chips","quantity":3})"),
                201)
             .json(),
         {"line_id"}));
  auto pick_line =
      feed.read_until([&](const ws_message& m) { return m.text.find(line) != std::string::npos; },
                      std::chrono::seconds(10));
  ASSERT_TRUE(pick_line) << "the added line did not reach the pick list feed";
  EXPECT_NE(pick_line->text.find("A1"), std::string::npos) << pick_line->text;
  expect(two->post("/v1/sessions/" + shop + "/items/" + line + "/pick"), 200);

  // An appointment, on the deployment's one test clock.
  const auto clock = one->get("/v1/admin/clock").json();
  const auto in_an_hour =
      tally::format_rfc3339(*tally::parse_rfc3339(str(at(clock, {"now"}))) + std::chrono::hours(1));
  const auto booking = str(
      at(expect(two->post("/v1/bookings", R"({"customer_id":")" + customer +
                                              R"(","title":"Tax advice","duration_minutes":60})"),
                201)
             .json(),
         {"session_id"}));
  expect(one->post("/v1/sessions/" + booking + "/quote", R"({"price_cents":1000})"), 200);
  expect(two->post("/v1/sessions/" + booking + "/book",
                   R"({"scheduled_start":")" + in_an_hour + R"(","host_id":"admin"})"),
         200);
  EXPECT_EQ(one->post("/v1/sessions/" + booking + "/start").code(), "too_early");
  // Moved on one gateway: answered once every process runs on the new time.
  expect(one->post("/v1/admin/clock", R"({"advance_seconds":3300})"), 200);
  const auto offset = num(at(one->get("/v1/admin/clock").json(), {"offset_seconds"}));
  EXPECT_EQ(offset, 3300);
  EXPECT_EQ(num(at(two->get("/v1/admin/clock").json(), {"offset_seconds"})), offset);
  auto replica = projector_process->client("admin", "acme");
  EXPECT_EQ(num(at(replica->get("/v1/admin/clock").json(), {"offset_seconds"})), offset);
  expect(two->post("/v1/sessions/" + booking + "/start"), 200);
  expect(two->post("/v1/admin/clock", R"({"advance_seconds":2700})"), 200);
  auto done = expect(one->post("/v1/sessions/" + booking + "/end"), 200);
  EXPECT_EQ(str(at(done.json(), {"status"})), "ended");
  EXPECT_EQ(str(at(done.json(), {"outcome"})), "completed");

  // The other tenant's commands, to either gateway, too.
  auto globex = g2->client("admin", "globex");
  expect(globex->post("/v1/customers", R"({"name":"Bo"})"), 201);
}

TEST_F(deployment, a_gateway_killed_hands_its_partitions_over_and_nothing_acknowledged_is_lost) {
  // Tenants spread over the partitions, commands to both gateways.
  std::vector<std::string> tenants{"acme", "globex", "initech", "umbrella", "hooli", "stark"};
  std::vector<std::pair<std::string, std::string>> acknowledged;  // tenant, customer
  std::atomic<bool> killed{false};
  std::mutex m;
  std::thread load([&] {
    // Until the kill and a little after: some commands are in flight when
    // their gateway dies.
    int after_kill = 0;
    for (int i = 0; after_kill < 30; ++i) {
      if (killed) ++after_kill;
      const auto& t = tenants[static_cast<std::size_t>(i) % tenants.size()];
      http_client c(g2->base_url());
      c.token = g2->token("admin", t);
      auto r = c.post("/v1/customers", "{\"name\":\"c" + std::to_string(i) + "\"}");
      if (r.status == 201) {
        std::lock_guard lock(m);
        acknowledged.emplace_back(t, str(at(r.json(), {"customer_id"})));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  // Both gateways decide some partitions before one dies.
  ASSERT_TRUE(
      eventually([&] { return decided(*g1) > 0 && decided(*g2) > 0; }, std::chrono::seconds(60)))
      << decided(*g1) << " and " << decided(*g2);
  g1->kill9();
  killed = true;
  load.join();
  // The survivor decides every partition again (the group notices the
  // dead member after its session timeout; the mock takes seconds more).
  for (const auto& t : tenants) {
    http_client c(g2->base_url());
    c.token = g2->token("admin", t);
    EXPECT_TRUE(
        eventually([&] { return c.post("/v1/customers", R"({"name":"after"})").status == 201; },
                   std::chrono::seconds(60)))
        << t << " has no gateway";
  }
  ASSERT_FALSE(acknowledged.empty());
  for (const auto& [t, id] : acknowledged) {
    http_client c(projector_process->base_url());
    c.token = g2->token("admin", t);
    EXPECT_TRUE(eventually([&] { return c.get("/v1/customers/" + id).status == 200; }))
        << t << "/" << id << " was acknowledged but is not in the log";
  }
}

}  // namespace

namespace {

// Webhooks in Kafka mode: registered at any gateway, delivered by the one
// projector run with --dispatch-webhooks; a projector without it says so.
TEST_F(deployment, deliveries_need_a_projector_that_dispatches) {
  webhook_receiver receiver;
  auto one = g1->client("admin", "acme");
  auto created = expect(one->post("/v1/webhooks", R"({"url":")" + receiver.url() + R"("})"), 201);
  const auto id = str(at(created.json(), {"webhook_id"}));
  auto refused = g2->client("admin", "acme")
                     ->get("/v1/webhooks/" + id + "/deliveries",
                           {"Tally-Min-Position: " + created.header("tally-position")});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.code(), "unavailable");
}

struct dispatching_deployment : deployment {
  void SetUp() override {
    projector_args = {"--dispatch-webhooks", "--webhook-allow-hosts", "127.0.0.1"};
    deployment::SetUp();
  }
};

TEST_F(dispatching_deployment, a_webhook_registered_at_one_gateway_gets_events_from_both) {
  webhook_receiver receiver;
  auto one = g1->client("admin", "acme");
  auto two = g2->client("admin", "acme");
  auto created = expect(one->post("/v1/webhooks", R"({"url":")" + receiver.url() +
                                                      R"(","event_types":["CustomerRegistered"]})"),
                        201);
  const auto id = str(at(created.json(), {"webhook_id"}));
  EXPECT_TRUE(str(at(created.json(), {"secret"})).starts_with("whsec_"));
  expect(one->post("/v1/customers", R"({"name":"From one"})"), 201);
  auto last = expect(two->post("/v1/customers", R"({"name":"From two"})"), 201);
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return r.size() >= 2; }));
  const auto got = receiver.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(str(at(boost::json::parse(got[0].body), {"data", "name"})), "From one");
  EXPECT_EQ(str(at(boost::json::parse(got[1].body), {"data", "name"})), "From two");
  auto deliveries = two->get("/v1/webhooks/" + id + "/deliveries",
                             {"Tally-Min-Position: " + last.header("tally-position")});
  ASSERT_EQ(deliveries.status, 200) << deliveries.body;
  EXPECT_EQ(at(deliveries.json(), {"items"}).as_array().size(), 2u);
}

}  // namespace
