// The whole command and query path — deciders, projector, read-your-writes,
// /metrics and /readyz — on a log whose offsets are not consecutive (as on
// Kafka, where transaction markers take offsets), through the real API
// without the network.

#include "commands/command_bus.h"
#include "gateway/api.h"
#include "gateway/auth.h"
#include "infra/embedded_log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "support/memory_kv.h"
#include "support/sparse_log.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <thread>

using namespace tally;

namespace {

// schedule_fn without Asio: one thread that runs each job at its time.
class timer_thread {
 public:
  timer_thread()
      : thread_([this] {
          std::unique_lock lock(m_);
          while (!stop_) {
            if (jobs_.empty()) {
              cv_.wait(lock);
              continue;
            }
            auto first = jobs_.begin();
            if (cv_.wait_until(lock, first->first) == std::cv_status::no_timeout) continue;
            auto job = std::move(first->second);
            jobs_.erase(first);
            lock.unlock();
            job();
            lock.lock();
          }
        }) {}
  ~timer_thread() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  gateway::schedule_fn fn() {
    return [this](std::chrono::milliseconds delay, std::function<void()> job) {
      {
        std::lock_guard lock(m_);
        jobs_.emplace(std::chrono::steady_clock::now() + delay, std::move(job));
      }
      cv_.notify_all();
    };
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

struct sparse_offsets : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("tally-sparse-" + std::to_string(std::random_device{}()));
  std::unique_ptr<infra::embedded_log> embedded =
      std::move(*infra::embedded_log::open(dir.string()));
  tally::testing::sparse_log log{*embedded};
  fixed_clock clock{*parse_rfc3339("2026-11-22T10:00:00Z")};
  tally::testing::memory_kv state, views;
  commands::command_bus bus{log, state, clock, {}};
  projections::projector projector{log, views};
  projections::queries queries{views, clock};
  gateway::token_verifier verifier{"secret"};
  timer_thread timers;
  std::unique_ptr<gateway::api> api;
  std::string token;

  void SetUp() override {
    ASSERT_TRUE(bus.start());
    projector.start();
    api = std::make_unique<gateway::api>(gateway::api_services{
        bus, &projector, &queries, log, clock, verifier, nullptr, timers.fn()});
    token = *gateway::sign_token("secret", {"acme", {"admin"}, "ann", {}});
  }
  void TearDown() override {
    api.reset();
    projector.stop();
    bus.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  gateway::http_response call(std::string method, std::string target, std::string body = "",
                              std::vector<std::pair<std::string, std::string>> headers = {}) {
    gateway::http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.headers.emplace_back("Authorization", "Bearer " + token);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    std::promise<gateway::http_response> p;
    auto f = p.get_future();
    api->handle(std::move(r), [&](gateway::http_response x) { p.set_value(std::move(x)); });
    return f.get();
  }
  static std::string header(const gateway::http_response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  std::string metric(const std::string& series) {
    const auto m = call("GET", "/metrics").body;
    const auto at = m.find(series + " ");
    EXPECT_NE(at, std::string::npos) << series << " not in " << m;
    if (at == std::string::npos) return {};
    return m.substr(at + series.size() + 1, m.find('\n', at) - at - series.size() - 1);
  }
};

TEST_F(sparse_offsets, commands_reads_and_lag_use_positions_of_events_seen) {
  auto put = call("PUT", "/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":250})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(header(put, "Tally-Position"), "0:1");
  std::string last;
  for (int i = 0; i < 20; ++i) {
    auto r = call("POST", "/v1/inventory/tea/receipts", R"({"quantity":1})");
    ASSERT_EQ(r.status, 200) << r.body;
    last = header(r, "Tally-Position");
    // Read your writes at once: the read waits for the projector to apply
    // exactly that event, which is never at "end - 1".
    auto read = call("GET", "/v1/inventory/tea", "", {{"Tally-Min-Position", last}});
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(boost::json::parse(read.body).at("on_hand").as_int64(), i + 1);
  }
  EXPECT_EQ(last, "0:61");
  EXPECT_EQ(metric("tally_log_last_offset{partition=\"0\"}"), "61");
  // Caught up means lag 0, although the log's end is past a marker.
  for (int i = 0; i < 100 && metric("tally_projection_lag_events{partition=\"0\"}") != "0"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(metric("tally_projection_lag_events{partition=\"0\"}"), "0");
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  // A position beyond what exists waits its 5 s, then 503; the wait is
  // dropped from the projector.
  auto ahead = call("GET", "/v1/inventory/tea", "", {{"Tally-Min-Position", "0:62"}});
  EXPECT_EQ(ahead.status, 503) << ahead.body;
  // The history of the tenant lists every event with its real position.
  auto events = call("GET", "/v1/events?limit=3");
  ASSERT_EQ(events.status, 200);
  EXPECT_NE(events.body.find("\"position\":\"0:1\""), std::string::npos) << events.body;
  EXPECT_NE(events.body.find("\"position\":\"0:4\""), std::string::npos) << events.body;
}

}  // namespace
