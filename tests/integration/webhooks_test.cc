// Webhooks (issue #9; API.md, "Webhooks") against the real server and a real
// receiver on 127.0.0.1: registration and its checks, signed CloudEvents in
// log order, retries that deliver each event once acknowledged, a restart in
// the middle of retrying, and removal.

#include "support/tally_process.h"
#include "support/webhook_receiver.h"

#include "base/digest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

using namespace tally::testing;

namespace {

struct webhooks : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  std::string last;

  void SetUp() override { boot(); }
  void boot() {
    server_options o;
    o.extra_args = {"--webhook-allow-hosts", "127.0.0.1"};
    server = std::make_unique<tally_server>(dir.str(), true, o);
    admin = server->client("admin");
  }
  response ok(response r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return r;
  }
  boost::json::value get(const std::string& path) {
    auto r = admin->get(path, {"Tally-Min-Position: " + last});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  boost::json::value hook(const std::string& url, const std::string& types = "") {
    return ok(admin->post("/v1/webhooks", R"({"url":")" + url + "\"" +
                                              (types.empty() ? "" : R"(,"event_types":)" + types) +
                                              R"(,"description":"CRM sync"})"),
              201)
        .json();
  }
  std::string customer(const std::string& name) {
    return str(at(ok(admin->post("/v1/customers", R"({"name":")" + name + R"("})"), 201).json(),
                  {"customer_id"}));
  }
  void advance(std::int64_t seconds) {
    ok(admin->post("/v1/admin/clock", "{\"advance_seconds\":" + std::to_string(seconds) + "}"));
  }
  // The webhook's deliveries once `done` holds for them (a result is
  // recorded after the receiver's answer is read): at most 5 s.
  boost::json::array deliveries_when(const std::string& id,
                                     const std::function<bool(const boost::json::array&)>& done,
                                     const std::string& query = "") {
    boost::json::array items;
    for (int i = 0; i < 100; ++i) {
      items = at(get("/v1/webhooks/" + id + "/deliveries" + query), {"items"}).as_array();
      if (done(items)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return items;
  }
  static bool all_settled(const boost::json::array& items) {
    for (const auto& d : items)
      if (str(at(d, {"status"})) == "pending") return false;
    return true;
  }
  static boost::json::value event_of(const received_request& r) {
    return boost::json::parse(r.body);
  }
};

// The names in the CloudEvents a receiver acknowledged, in the order it got them.
std::vector<std::string> acknowledged_names(const std::vector<received_request>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests)
    if (r.answered / 100 == 2) out.push_back(str(at(boost::json::parse(r.body), {"data", "name"})));
  return out;
}

TEST_F(webhooks, registration_shows_the_secret_once_and_refuses_unsafe_urls) {
  webhook_receiver receiver;
  auto created = hook(receiver.url(), R"(["CustomerRegistered"])");
  const auto id = str(at(created, {"webhook_id"}));
  const auto secret = str(at(created, {"secret"}));
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;
  EXPECT_EQ(str(at(created, {"url"})), receiver.url());
  EXPECT_EQ(boost::json::serialize(at(created, {"event_types"})), R"(["CustomerRegistered"])");
  // Listed without the secret; the secret never reaches the log.
  auto list = get("/v1/webhooks");
  ASSERT_EQ(at(list, {"items"}).as_array().size(), 1u);
  EXPECT_FALSE(at(list, {"items"}).as_array()[0].as_object().contains("secret"));
  auto events = admin->get("/v1/events", {"Tally-Min-Position: " + last});
  EXPECT_NE(events.body.find("WebhookRegistered"), std::string::npos);
  EXPECT_EQ(events.body.find(secret), std::string::npos);

  auto refused = [&](const std::string& body, const std::string& field) {
    auto r = admin->post("/v1/webhooks", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_NE(r.body.find("\"" + field + "\""), std::string::npos) << r.body;
  };
  refused(R"({"url":"http://example.com/hook"})", "url");   // http to a host not listed
  refused(R"({"url":"ftp://example.com/hook"})", "url");    // not http(s)
  refused(R"({"url":"https://10.1.2.3/hook"})", "url");     // private
  refused(R"({"url":"https://169.254.169.254/"})", "url");  // link-local (cloud metadata)
  refused(R"({"url":"https://[::1]:8443/"})", "url");       // loopback
  refused(R"({"url":"https://localhost/hook"})", "url");    // loopback by name
  refused(R"({"url":"not a url"})", "url");
  refused(R"({"url":"https://example.com/","event_types":["Nope"]})", "event_types[0]");
  refused(R"({"event_types":[]})", "url");
  auto host = server->client("host");
  EXPECT_EQ(host->post("/v1/webhooks", R"({"url":"https://example.com/"})").status, 403);
  EXPECT_EQ(at(get("/v1/webhooks"), {"items"}).as_array().size(), 1u);

  // Removal: gone from the list, a second removal is 404.
  ok(admin->del("/v1/webhooks/" + id));
  EXPECT_EQ(at(get("/v1/webhooks"), {"items"}).as_array().size(), 0u);
  EXPECT_FALSE(at(get("/v1/webhooks/" + id), {"active"}).as_bool());
  EXPECT_EQ(admin->del("/v1/webhooks/" + id).status, 404);
}

TEST_F(webhooks, matching_events_arrive_signed_in_log_order) {
  webhook_receiver receiver;
  auto created = hook(receiver.url(), R"(["CustomerRegistered","ResourceRegistered"])");
  const auto id = str(at(created, {"webhook_id"}));
  const auto secret = str(at(created, {"secret"}));
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) {
    names.push_back("Customer " + std::to_string(i));
    customer(names.back());
    if (i == 5) ok(admin->put("/v1/settings", R"({"currency":"EUR"})"));  // not asked for
  }
  ok(admin->post("/v1/resources", R"({"name":"PC 9","hourly_rate_cents":100})"), 201);
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return r.size() >= 13; }))
      << receiver.requests().size();
  const auto got = receiver.requests();
  ASSERT_EQ(got.size(), 13u);
  auto acknowledged = acknowledged_names(got);
  ASSERT_EQ(acknowledged.size(), 13u);
  acknowledged.pop_back();  // the resource's, which has no data.name
  EXPECT_EQ(acknowledged, names);
  std::set<std::string> deliveries;
  for (const auto& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook");
    EXPECT_TRUE(r.headers.at("content-type").starts_with("application/cloudevents+json"));
    // Tally-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
    const auto& sig = r.headers.at("tally-signature");
    ASSERT_TRUE(sig.starts_with("t=")) << sig;
    const auto comma = sig.find(",v1=");
    ASSERT_NE(comma, std::string::npos) << sig;
    const std::string t = sig.substr(2, comma - 2);
    EXPECT_EQ(sig.substr(comma + 4), tally::hmac_sha256_hex(secret, t + "." + r.body));
    EXPECT_NE(sig.substr(comma + 4), tally::hmac_sha256_hex(secret + "x", t + "." + r.body));
    deliveries.insert(r.headers.at("tally-delivery"));
    const auto e = event_of(r);
    EXPECT_EQ(str(at(e, {"specversion"})), "1.0");
    EXPECT_FALSE(str(at(e, {"position"})).empty());
  }
  EXPECT_EQ(deliveries.size(), 13u);
  EXPECT_EQ(str(at(event_of(got.back()), {"type"})), "ResourceRegistered");
  // The deliveries, newest first.
  const auto items = deliveries_when(id, all_settled, "?limit=5");
  auto list = get("/v1/webhooks/" + id + "/deliveries?limit=5");
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(str(at(items[0], {"type"})), "ResourceRegistered");
  EXPECT_EQ(str(at(items[0], {"status"})), "delivered");
  EXPECT_EQ(num(at(items[0], {"attempts"})), 1);
  EXPECT_EQ(num(at(items[0], {"last_status"})), 200);
  EXPECT_FALSE(at(items[0], {"delivered_at"}).is_null());
  EXPECT_EQ(str(at(items[0], {"event_id"})), str(at(event_of(got.back()), {"id"})));
  EXPECT_FALSE(at(list, {"next_cursor"}).is_null());
  EXPECT_EQ(admin->get("/v1/webhooks/nope/deliveries").status, 404);
}

TEST_F(webhooks, a_receiver_that_fails_twice_gets_each_event_once_acknowledged_in_order) {
  // Fails the first two requests, then accepts.
  webhook_receiver receiver(
      [](const received_request&, const std::vector<received_request>& before) {
        return before.size() < 2 ? 500 : 204;
      });
  const auto id = str(at(hook(receiver.url(), R"(["CustomerRegistered"])"), {"webhook_id"}));
  customer("First");
  customer("Second");
  customer("Third");
  // Retries back off (2 s, then 4 s): the test clock moves them along.
  for (int i = 0; i < 100 && acknowledged_names(receiver.requests()).size() < 3; ++i) {
    advance(5);
    receiver.wait_for([](const auto& r) { return acknowledged_names(r).size() >= 3; },
                      std::chrono::milliseconds(200));
  }
  const auto got = receiver.requests();
  EXPECT_EQ(acknowledged_names(got), (std::vector<std::string>{"First", "Second", "Third"}));
  ASSERT_GE(got.size(), 5u);
  // The failures were all the first event's: nothing overtook it.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(str(at(event_of(got[static_cast<std::size_t>(i)]), {"data", "name"})), "First");
  EXPECT_EQ(got[0].headers.at("tally-delivery"), got[2].headers.at("tally-delivery"));
  const auto items = deliveries_when(id, all_settled);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(num(at(items[2], {"attempts"})), 3);
  EXPECT_EQ(num(at(items[2], {"last_status"})), 204);
  EXPECT_EQ(str(at(items[2], {"status"})), "delivered");
  EXPECT_TRUE(at(items[2], {"last_error"}).is_null());
  EXPECT_EQ(num(at(items[0], {"attempts"})), 1);
}

TEST_F(webhooks, a_restart_in_the_middle_of_retrying_loses_nothing) {
  std::atomic<bool> accept{false};
  webhook_receiver receiver([&](const received_request&, const std::vector<received_request>&) {
    return accept ? 200 : 503;
  });
  const auto id = str(at(hook(receiver.url(), R"(["CustomerRegistered"])"), {"webhook_id"}));
  customer("Kept 1");
  customer("Kept 2");
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return !r.empty(); }));
  // The failed attempt is recorded once the receiver's answer is read.
  boost::json::array pending;
  for (int i = 0; i < 100; ++i) {
    pending = at(get("/v1/webhooks/" + id + "/deliveries"), {"items"}).as_array();
    if (pending.size() == 2 && !at(pending[1], {"last_status"}).is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(str(at(pending[1], {"status"})), "pending");
  EXPECT_EQ(num(at(pending[1], {"last_status"})), 503);
  EXPECT_FALSE(at(pending[1], {"next_attempt_at"}).is_null());
  ASSERT_EQ(server->stop(), 0);
  accept = true;
  boot();
  customer("Kept 3");
  for (int i = 0; i < 100 && acknowledged_names(receiver.requests()).size() < 3; ++i) {
    advance(5);
    receiver.wait_for([](const auto& r) { return acknowledged_names(r).size() >= 3; },
                      std::chrono::milliseconds(200));
  }
  EXPECT_EQ(acknowledged_names(receiver.requests()),
            (std::vector<std::string>{"Kept 1", "Kept 2", "Kept 3"}));
  const auto items = deliveries_when(id, all_settled);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_GE(num(at(items[2], {"attempts"})), 2);
  for (const auto& d : items) EXPECT_EQ(str(at(d, {"status"})), "delivered");
}

TEST_F(webhooks, after_removal_nothing_more_is_sent_and_the_queue_is_cancelled) {
  std::atomic<bool> accept{true};
  webhook_receiver receiver([&](const received_request&, const std::vector<received_request>&) {
    return accept ? 200 : 500;
  });
  const auto id = str(at(hook(receiver.url()), {"webhook_id"}));
  customer("Sent");
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return !r.empty(); }));
  accept = false;
  customer("Stuck");
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return r.size() >= 2; }));
  ok(admin->del("/v1/webhooks/" + id));
  customer("Never");
  advance(60);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (const auto& r : receiver.requests())
    EXPECT_NE(str(at(event_of(r), {"data", "name"})), "Never");
  const auto items = deliveries_when(id, all_settled);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(str(at(items[0], {"status"})), "cancelled");
  EXPECT_EQ(str(at(items[1], {"status"})), "delivered");
}

}  // namespace

namespace {

// --webhook-allow-hosts also comes from TALLY_WEBHOOK_ALLOW_HOSTS and the
// TOML file (flags win over the file, the file over the environment).
TEST(webhook_settings, allowed_hosts_come_from_the_environment_and_the_toml_file) {
  auto allows = [](const server_options& o) {
    temp_dir dir;
    tally_server s(dir.str(), false, o);
    auto admin = s.client("admin");
    return admin->post("/v1/webhooks", R"({"url":"http://127.0.0.1:9/hook"})").status;
  };
  server_options from_env;
  from_env.env = {"TALLY_WEBHOOK_ALLOW_HOSTS=hooks.internal, 127.0.0.1"};
  EXPECT_EQ(allows(from_env), 201);

  temp_dir conf;
  const std::string file = conf.str() + "/tally.toml";
  std::ofstream(file) << "webhook_allow_hosts = [\"127.0.0.1\"]\n";
  server_options from_file;
  from_file.global_args = {"--config", file};
  EXPECT_EQ(allows(from_file), 201);

  server_options flag_wins = from_file;
  flag_wins.extra_args = {"--webhook-allow-hosts", "hooks.internal"};
  EXPECT_EQ(allows(flag_wins), 400);
  EXPECT_EQ(allows(server_options{}), 400);
}

}  // namespace
