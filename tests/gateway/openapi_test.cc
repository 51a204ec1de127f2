// docs/openapi.json and the router agree: every route is documented and
// every documented operation is routed.

#include "gateway/openapi.h"
#include "commands/command_bus.h"
#include "gateway/api.h"
#include "infra/embedded_log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "support/memory_kv.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <random>
#include <set>

using namespace tally;

TEST(openapi, documents_exactly_the_routes_of_the_router) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tally-openapi-" + std::to_string(std::random_device{}()));
  {
    auto log = std::move(*infra::embedded_log::open(dir.string()));
    fixed_clock clock{timestamp{}};
    tally::testing::memory_kv views;
    commands::command_bus bus(*log, log->state_store(), clock, {});
    projections::projector projector(*log, views);
    projections::queries queries(views, clock);
    gateway::token_verifier verifier("secret");
    struct no_clock final : clock_control {
      status advance(std::int64_t) override { return ok(); }
      std::int64_t offset_ms() const override { return 0; }
    } control;
    gateway::api api(
        {bus, &projector, &queries, *log, clock, verifier, &control, [](auto, auto) {}});

    std::set<std::string> routed;
    for (const auto& r : api.routes()) routed.insert(r);
    std::set<std::string> documented;
    auto doc = boost::json::parse(gateway::openapi_document());
    EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
    for (const auto& [path, ops] : doc.at("paths").as_object()) {
      for (const auto& [method, op] : ops.as_object()) {
        std::string m(method);
        for (auto& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        documented.insert(m + " " + std::string(path));
      }
    }
    EXPECT_EQ(routed, documented);
    auto async = boost::json::parse(gateway::asyncapi_document());
    EXPECT_EQ(async.at("asyncapi").as_string(), "3.0.0");
    EXPECT_EQ(async.at("channels").at("stream").at("address").as_string(), "/v1/stream");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
