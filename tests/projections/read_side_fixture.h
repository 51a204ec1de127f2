#pragma once

// A read side on a real embedded log (the projections tests): events
// appended as any build could have (no bounds checked), projected into an
// in-memory store, read back through the queries.

#include "infra/embedded_log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "support/memory_kv.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <map>

#include <unistd.h>

namespace tally::testing {

class fixed_clock final : public clock_source {
 public:
  [[nodiscard]] timestamp now() const override { return from_millis(1'795'000'000'000); }
};

struct read_side : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("tally-read-side-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::unique_ptr<infra::embedded_log> log;
  tally::testing::memory_kv views;
  fixed_clock clock;
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
  // Appends as an older build could have: no bounds checked.
  void append(event_data d, const std::string& tenant = "acme") {
    event e;
    e.id = ids::event{"e" + std::to_string(++n)};
    e.tenant = ids::tenant{tenant};
    e.stream = stream_of(e.tenant, d);
    e.stream_version = version{++versions[e.stream]};
    e.time = clock.now();
    e.actor = ids::user{"old-build"};
    e.data = std::move(d);
    ASSERT_TRUE(log->append(0, {e}));
  }
  static std::int64_t number(const result<std::string>& answer, const char* field) {
    EXPECT_TRUE(answer) << (answer ? "" : answer.err().detail);
    if (!answer) return -1;
    const auto v = boost::json::parse(*answer);
    return v.as_object().at(field).as_int64();
  }
};

}  // namespace tally::testing
