#pragma once

// The fixture of the integration tests of the screens' rules (payments,
// hosts, stock, screens): a real tally (both logs: the suite runs again as
// kafka/…), an admin, two hosts (host-7, host-8) and an auditor, the
// position of the last write so that reads wait for it, and the test clock.

#include "base/time.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace tally::testing {

struct api_flow : ::testing::Test {
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

}  // namespace tally::testing
