// Load harness: starts a real `tally serve` in a fresh data directory and
// drives it over HTTP from N client threads for S seconds, then prints
// throughput and latency percentiles. Every request goes to 127.0.0.1.
//
//   load_harness [threads=8] [seconds=5] [workload=commands|reads]
//
// commands: each thread registers customers (one durable append each; the
// decider's group commit shares fsyncs between threads).
// reads: each thread reads the inventory list.

#include "support/tally_process.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace tally::testing;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::stoi(argv[1]) : 8;
  const int seconds = argc > 2 ? std::stoi(argv[2]) : 5;
  const std::string workload = argc > 3 ? argv[3] : "commands";
  temp_dir dir;
  tally_server server(dir.str(), false);
  const auto token = server.token("admin");
  {
    http_client setup(server.base_url());
    setup.token = token;
    for (int i = 0; i < 50; ++i)
      setup.put("/v1/inventory/item-" + std::to_string(i),
                R"({"name":"Item","unit_price_cents":100})");
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::atomic<long> errors{0};
  std::vector<std::thread> pool;
  const auto started = clock_type::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      http_client c(server.base_url());
      c.token = token;
      auto& mine = latencies[static_cast<std::size_t>(t)];
      for (long i = 0; !stop; ++i) {
        const auto t0 = clock_type::now();
        auto r = workload == "reads"
                     ? c.get("/v1/inventory?limit=50")
                     : c.post("/v1/customers", R"({"name":"Load )" + std::to_string(i) + "\"}");
        const auto t1 = clock_type::now();
        if (r.status >= 300) ++errors;
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[static_cast<std::size_t>(p * static_cast<double>(all.size() - 1))];
  };
  std::printf("workload=%s threads=%d seconds=%.1f requests=%zu errors=%ld\n", workload.c_str(),
              threads, elapsed, all.size(), errors.load());
  std::printf("throughput=%.0f req/s  p50=%.2f ms  p90=%.2f ms  p99=%.2f ms  max=%.2f ms\n",
              static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());
  return errors.load() == 0 ? 0 : 1;
}
