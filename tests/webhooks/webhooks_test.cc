// Webhook secrets, signatures and where webhooks may point (webhooks/).

#include "base/digest.h"
#include "infra/embedded_log.h"
#include "support/memory_kv.h"
#include "support/webhook_receiver.h"
#include "webhooks/dispatcher.h"
#include "webhooks/policy.h"
#include "webhooks/signing.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

using namespace tally;
using namespace tally::webhooks;

namespace {

TEST(signing, hmac_sha256_matches_rfc_4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(signing, secrets_are_stable_per_key_tenant_and_webhook_and_differ_otherwise) {
  const auto s = secret_for("key", ids::tenant{"acme"}, ids::webhook{"w1"});
  EXPECT_TRUE(s.starts_with("whsec_"));
  EXPECT_EQ(s.size(), 6u + 64u);
  EXPECT_EQ(s, secret_for("key", ids::tenant{"acme"}, ids::webhook{"w1"}));
  EXPECT_NE(s, secret_for("key2", ids::tenant{"acme"}, ids::webhook{"w1"}));
  EXPECT_NE(s, secret_for("key", ids::tenant{"acme2"}, ids::webhook{"w1"}));
  EXPECT_NE(s, secret_for("key", ids::tenant{"acme"}, ids::webhook{"w2"}));
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_NE(secret_for("k", ids::tenant{"ab"}, ids::webhook{"c"}),
            secret_for("k", ids::tenant{"a"}, ids::webhook{"bc"}));
}

TEST(signing, the_signature_header_signs_the_time_and_the_body) {
  EXPECT_EQ(signature("whsec_x", 1700000000, R"({"a":1})"),
            "t=1700000000,v1=" + hmac_sha256_hex("whsec_x", R"(1700000000.{"a":1})"));
}

TEST(policy, https_to_public_hosts_http_and_internal_addresses_only_when_listed) {
  const outbound_policy none;
  EXPECT_TRUE(none.check_url("https://hooks.example.com/tally"));
  EXPECT_TRUE(none.check_url("https://93.184.216.34:8443/x?y=1"));
  for (const char* bad :
       {"http://hooks.example.com/", "ftp://example.com/", "https:///nohost", "no url",
        "https://10.0.0.1/", "https://172.16.5.4/", "https://192.168.1.1/", "https://127.0.0.1/",
        "https://169.254.169.254/latest/meta-data", "https://[::1]/", "https://[fe80::1]/",
        "https://[fd00::1]/", "https://[::ffff:10.0.0.1]/", "https://0.0.0.0/",
        "https://100.64.0.1/", "https://localhost/", "https://api.localhost/",
        "https://example.com/#frag"}) {
    auto s = none.check_url(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.err().fields.at(0).field, "url") << bad;
  }
  const auto listed = outbound_policy::from_list(" 127.0.0.1, Hooks.Internal ,::1");
  EXPECT_TRUE(listed.check_url("http://127.0.0.1:9000/hook"));
  EXPECT_TRUE(listed.check_url("http://hooks.internal/x"));
  EXPECT_TRUE(listed.check_url("https://[::1]:8443/"));
  EXPECT_FALSE(listed.check_url("http://10.0.0.1/"));
}

TEST(policy, addresses_are_checked_when_connecting) {
  auto v4 = [](const char* ip) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
  };
  auto v6 = [](const char* ip) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
  };
  const outbound_policy none;
  auto pub = v4("93.184.216.34");
  auto loop = v4("127.0.0.1");
  auto meta = v4("169.254.169.254");
  auto v6loop = v6("::1");
  auto v6pub = v6("2606:2800:220:1:248:1893:25c8:1946");
  auto mapped = v6("::ffff:192.168.0.1");
  EXPECT_TRUE(none.allows_address("hooks.example.com", reinterpret_cast<sockaddr*>(&pub)));
  EXPECT_TRUE(none.allows_address("hooks.example.com", reinterpret_cast<sockaddr*>(&v6pub)));
  // A public name that resolves to an internal address (DNS rebinding) is refused.
  EXPECT_FALSE(none.allows_address("hooks.example.com", reinterpret_cast<sockaddr*>(&loop)));
  EXPECT_FALSE(none.allows_address("hooks.example.com", reinterpret_cast<sockaddr*>(&meta)));
  EXPECT_FALSE(none.allows_address("hooks.example.com", reinterpret_cast<sockaddr*>(&v6loop)));
  EXPECT_FALSE(none.allows_address("hooks.example.com", reinterpret_cast<sockaddr*>(&mapped)));
  const auto listed = outbound_policy::from_list("hooks.internal");
  EXPECT_TRUE(listed.allows_address("hooks.internal", reinterpret_cast<sockaddr*>(&loop)));
}

}  // namespace

// The dispatcher itself, on an embedded log and an in-memory store, with a
// receiver on 127.0.0.1: under the sanitizer builds too.
namespace dispatch {

class stepping_clock final : public clock_source {
 public:
  [[nodiscard]] timestamp now() const override { return from_millis(ms_.load()); }
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }

 private:
  std::atomic<std::int64_t> ms_{1'800'000'000'000};
};

struct dispatcher_test : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("tally-dispatch-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::unique_ptr<infra::embedded_log> log;
  tally::testing::memory_kv store;
  stepping_clock clock;
  std::int64_t n = 0;
  std::map<stream_id, std::int64_t> versions;

  void SetUp() override {
    std::filesystem::remove_all(dir);
    log = std::move(*infra::embedded_log::open(dir.string(), 0));
  }
  void TearDown() override {
    log.reset();
    std::filesystem::remove_all(dir);
  }
  void append(event_data d) {
    event e;
    e.id = ids::event{"e" + std::to_string(++n)};
    e.tenant = ids::tenant{"acme"};
    e.stream = stream_of(e.tenant, d);
    e.stream_version = version{++versions[e.stream]};
    e.time = clock.now();
    e.actor = ids::user{"test"};
    e.data = std::move(d);
    ASSERT_TRUE(log->append(0, {e}));
  }
  dispatcher_options options() {
    dispatcher_options o;
    o.server_key = "server-key";
    o.policy = outbound_policy::from_list("127.0.0.1");
    return o;
  }
};

std::vector<std::string> acknowledged(const std::vector<tally::testing::received_request>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs)
    if (r.answered / 100 == 2) {
      const auto at = r.body.find("\"name\":\"");
      out.push_back(r.body.substr(at + 8, r.body.find('"', at + 8) - at - 8));
    }
  return out;
}

TEST_F(dispatcher_test, delivers_in_order_retries_and_resumes_after_a_restart_without_resending) {
  tally::testing::webhook_receiver receiver(
      [](const auto&, const auto& before) { return before.empty() ? 500 : 200; });
  append(webhook_registered{ids::webhook{"w1"}, receiver.url(), {"CustomerRegistered"}, {}});
  append(customer_registered{ids::customer{"c1"}, "One", {}, {}, false});
  append(resource_registered{ids::resource{"r1"}, "Not asked for", 100});
  append(customer_registered{ids::customer{"c2"}, "Two", {}, {}, false});
  {
    dispatcher d(*log, store, clock, options());
    d.start();
    ASSERT_TRUE(receiver.wait_for([](const auto& r) { return !r.empty(); }));
    // The retry is due 2 s later on the clock the dispatcher reads (moved
    // until it comes: the failure may be recorded after a move).
    for (int i = 0; i < 100 && acknowledged(receiver.requests()).size() < 2; ++i) {
      clock.advance(std::chrono::seconds(3));
      receiver.wait_for([](const auto& r) { return acknowledged(r).size() >= 2; },
                        std::chrono::milliseconds(100));
    }
    EXPECT_EQ(acknowledged(receiver.requests()), (std::vector<std::string>{"One", "Two"}));
    const auto first = receiver.requests().front();
    const std::string secret = secret_for("server-key", ids::tenant{"acme"}, ids::webhook{"w1"});
    const auto& sig = first.headers.at("tally-signature");
    const auto t = sig.substr(2, sig.find(',') - 2);
    EXPECT_EQ(sig.substr(sig.find(",v1=") + 4), hmac_sha256_hex(secret, t + "." + first.body));
    auto list = d.deliveries(ids::tenant{"acme"}, ids::webhook{"w1"}, {50, ""});
    ASSERT_TRUE(list);
    EXPECT_NE(list->find(R"("status":"delivered","attempts":2,"last_status":200)"),
              std::string::npos)
        << *list;
    d.stop();
  }
  append(customer_registered{ids::customer{"c3"}, "Three", {}, {}, false});
  dispatcher again(*log, store, clock, options());
  again.start();
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return acknowledged(r).size() >= 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(acknowledged(receiver.requests()), (std::vector<std::string>{"One", "Two", "Three"}));
  again.stop();
}

TEST_F(dispatcher_test, an_address_outside_the_policy_is_refused_when_connecting) {
  tally::testing::webhook_receiver receiver;
  append(webhook_registered{ids::webhook{"w1"}, receiver.url(), {}, {}});
  append(customer_registered{ids::customer{"c1"}, "One", {}, {}, false});
  auto o = options();
  o.policy = outbound_policy{};  // 127.0.0.1 is not listed
  dispatcher d(*log, store, clock, o);
  d.start();
  std::string list;
  for (int i = 0; i < 100 && list.find("link-local") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = d.deliveries(ids::tenant{"acme"}, ids::webhook{"w1"}, {50, ""});
    list = r ? *r : "";
  }
  d.stop();
  EXPECT_NE(list.find("private, loopback or link-local"), std::string::npos) << list;
  EXPECT_TRUE(receiver.requests().empty());
}

TEST_F(dispatcher_test, takes_the_projectors_events_once_caught_up) {
  tally::testing::webhook_receiver receiver;
  tally::testing::memory_kv views;
  projections::projector projector(*log, views);
  append(webhook_registered{ids::webhook{"w1"}, receiver.url(), {"CustomerRegistered"}, {}});
  append(customer_registered{ids::customer{"c1"}, "Before", {}, {}, false});
  dispatcher d(*log, store, clock, options(), &projector);
  projector.start();
  d.start();
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return acknowledged(r).size() >= 1; }));
  // Caught up: later events come from the projector's batches.
  for (int i = 0; i < 20; ++i)
    append(customer_registered{
        ids::customer{"l" + std::to_string(i)}, "Live " + std::to_string(i), {}, {}, false});
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return acknowledged(r).size() >= 21; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto names = acknowledged(receiver.requests());
  ASSERT_EQ(names.size(), 21u);
  EXPECT_EQ(names.front(), "Before");
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(names[static_cast<std::size_t>(i) + 1], "Live " + std::to_string(i));
  d.stop();
  projector.stop();
}

}  // namespace dispatch
