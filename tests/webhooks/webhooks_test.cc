// Webhook secrets, signatures and where webhooks may point (webhooks/).

#include "base/digest.h"
#include "webhooks/policy.h"
#include "webhooks/signing.h"

#include <gtest/gtest.h>

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
