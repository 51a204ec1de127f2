// Issue #10's metrics: /metrics in the Prometheus text format as strict
// parsers read it (promtool check metrics), with the series an operator
// runs Tally by, after real traffic.

#include "support/tally_process.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

using namespace tally::testing;

namespace {

// promtool's verdict on `text`.
run_result promtool_check(const std::string& text, const std::string& dir) {
  const std::string file = dir + "/metrics.txt";
  std::ofstream(file) << text;
  return run_shell("promtool check metrics < '" + file + "'");
}

TEST(metrics, the_exposition_passes_promtool_and_has_the_operators_series) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  auto admin = server.client("admin");
  ws_client feed(server.base_url(), "/v1/stream?access_token=" + server.token("admin"));
  ASSERT_TRUE(feed.connected());
  const auto customer =
      str(at(admin->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
  auto started =
      admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})");
  ASSERT_EQ(started.status, 201) << started.body;
  const auto sid = str(at(started.json(), {"session_id"}));
  (void)admin->get("/v1/sessions/" + sid,
                   {"Tally-Min-Position: " + started.header("tally-position")});
  (void)admin->get("/v1/sessions/nobody");
  (void)admin->get("/v1/no-such-path");

  auto r = admin->get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto verdict = promtool_check(r.body, dir.str());
  EXPECT_EQ(verdict.exit_code, 0) << verdict.out << "\n" << r.body;

  // Each family once, its samples right after its HELP and TYPE.
  std::istringstream lines(r.body);
  std::string line, current;
  std::set<std::string> seen;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP ")) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(seen.insert(current).second) << current << " appears twice";
    } else if (!line.starts_with("#")) {
      EXPECT_TRUE(line.starts_with(current)) << line << " is outside its family " << current;
    }
  }
  for (const auto* family :
       {"tally_http_request_duration_seconds", "tally_append_duration_seconds",
        "tally_append_batch_commands", "tally_decider_queue_depth", "tally_projection_lag_events",
        "tally_projection_lag_seconds", "tally_ws_subscribers", "tally_ws_dropped_total",
        "tally_scheduler_due", "tally_webhook_attempts_total"})
    EXPECT_TRUE(seen.contains(family)) << family << " missing from\n" << r.body;

  // The route template, not the path; unmatched requests under an empty route.
  EXPECT_EQ(
      server.metric(
          R"(tally_http_request_duration_seconds_count{method="POST",route="/v1/customers",code="201"})"),
      1);
  EXPECT_EQ(
      server.metric(
          R"(tally_http_request_duration_seconds_count{method="GET",route="/v1/sessions/{id}",code="200"})"),
      1);
  EXPECT_EQ(
      server.metric(
          R"(tally_http_request_duration_seconds_count{method="GET",route="/v1/sessions/{id}",code="404"})"),
      1);
  EXPECT_EQ(
      server.metric(R"(tally_http_request_duration_seconds_count{method="",route="",code="404"})"),
      1);
  EXPECT_EQ(server.metric(R"(tally_append_batch_commands_count)"), 2);
  EXPECT_EQ(server.metric(R"(tally_append_duration_seconds_count)"), 2);
  EXPECT_EQ(server.metric("tally_ws_subscribers"), 1);
  EXPECT_EQ(server.metric("tally_scheduler_due"), 1);  // the shopping session's timeout
  EXPECT_EQ(server.metric(R"(tally_projection_lag_events{partition="0"})"), 0);
  EXPECT_EQ(server.metric(R"(tally_decider_queue_depth{partition="0"})"), 0);
}

}  // namespace
