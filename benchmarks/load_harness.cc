// Load harness: starts a real `tally serve` in a fresh data directory and
// drives it over HTTP from N client threads for S seconds, then prints
// throughput and latency percentiles. Every request goes to 127.0.0.1.
//
//   load_harness [threads=8] [seconds=5] [workload=commands|reads|shopping|hot|active_page]
//                [active=0] [ended]
//
// commands: each thread registers customers (one durable append each; the
// decider's group commit shares fsyncs between threads).
// reads: each thread reads the inventory list.
// active_page: each thread reads the first page of GET /v1/sessions/active
// (50 entries; with `active` sessions open before the run).
// shopping: each thread runs the live-shopping loop: start a session, add
// three items, end it (five commands; the rate counts commands).
// hot: each thread adds one unit of the same item to its own open session,
// over and over: the popular item of a live-shopping evening.
// active: shopping sessions opened (and left open, each holding one item)
// before the run: what the server carries while it works; with `ended`, the
// same sessions are ended again, so only their history remains (the control).
//
// TALLY_BENCH_DATA=DIR runs the server in DIR (made if missing) and leaves it
// there when the run ends, for store_size to measure.

#include "support/tally_process.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
  const char* kept = std::getenv("TALLY_BENCH_DATA");
  const std::string data = kept ? std::string(kept) : dir.str();
  if (kept) std::filesystem::create_directories(data);
  tally_server server(data, false);
  const auto token = server.token("admin");
  const long active = argc > 4 ? std::stol(argv[4]) : 0;
  // "ended": the sessions are opened and ended again, so the server carries
  // their history but none of them is active (the control for `active`).
  const bool ended = argc > 5 && std::string(argv[5]) == "ended";
  std::string customer;
  {
    http_client setup(server.base_url());
    setup.token = token;
    for (int i = 0; i < 50; ++i) {
      setup.put("/v1/inventory/item-" + std::to_string(i),
                R"({"name":"Item","unit_price_cents":100})");
      for (int r = 0; r < 5; ++r)
        setup.post("/v1/inventory/item-" + std::to_string(i) + "/receipts",
                   R"({"quantity":1000000})");
    }
    customer =
        str(at(setup.post("/v1/customers", R"({"name":"Shopper"})").json(), {"customer_id"}));
  }
  auto start_session = [&](http_client& c) {
    return str(at(
        c.post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})").json(),
        {"session_id"}));
  };
  if (active > 0) {
    const auto t0 = clock_type::now();
    std::vector<std::thread> openers;
    std::atomic<long> opened{0};
    for (int t = 0; t < 16; ++t)
      openers.emplace_back([&] {
        http_client c(server.base_url());
        c.token = token;
        for (long i = opened++; i < active; i = opened++) {
          const auto id = start_session(c);
          c.post("/v1/sessions/" + id + "/items",
                 R"({"item_id":"item-)" + std::to_string(i % 50) + R"(","quantity":1})");
          if (ended) c.post("/v1/sessions/" + id + "/end");
        }
      });
    for (auto& th : openers) th.join();
    std::printf("opened %ld shopping sessions%s in %.1f s\n", active,
                ended ? " and ended them" : "",
                std::chrono::duration<double>(clock_type::now() - t0).count());
    // Let RocksDB finish the flushes and compactions the opening caused, so
    // that the run measures carrying the sessions, not digesting them.
    std::this_thread::sleep_for(std::chrono::seconds(20));
  }
  const auto rss_before = server.rss_kb();
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::atomic<long> errors{0};
  std::vector<std::thread> pool;
  std::array<std::atomic<long>, 4> per_quarter{};  // requests answered in each quarter of the run
  const auto started = clock_type::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      http_client c(server.base_url());
      c.token = token;
      auto& mine = latencies[static_cast<std::size_t>(t)];
      auto timed = [&](auto&& call) {
        const auto t0 = clock_type::now();
        auto r = call();
        const auto t1 = clock_type::now();
        if (r.status >= 300) ++errors;
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        ++per_quarter[std::min<std::size_t>(
            3, static_cast<std::size_t>(4 * std::chrono::duration<double>(t1 - started).count() /
                                        seconds))];
        return r;
      };
      std::string hot_session;
      if (workload == "hot") hot_session = start_session(c);
      for (long i = 0; !stop; ++i) {
        if (workload == "reads") {
          timed([&] { return c.get("/v1/inventory?limit=50"); });
        } else if (workload == "active_page") {
          timed([&] { return c.get("/v1/sessions/active?limit=50"); });
        } else if (workload == "shopping") {
          auto r = timed([&] {
            return c.post("/v1/sessions",
                          R"({"kind":"shopping","customer_id":")" + customer + R"("})");
          });
          const auto id = str(at(r.json(), {"session_id"}));
          for (int k = 0; k < 3; ++k)
            timed([&] {
              return c.post(
                  "/v1/sessions/" + id + "/items",
                  R"({"item_id":"item-)" + std::to_string((i + k + t) % 50) + R"(","quantity":1})");
            });
          timed([&] { return c.post("/v1/sessions/" + id + "/end"); });
        } else if (workload == "hot") {
          timed([&] {
            return c.post("/v1/sessions/" + hot_session + "/items",
                          R"({"item_id":"item-0","quantity":1})");
          });
          // Sessions of a few lines: the item's holds pile up (every session
          // stays open), while no one session grows large.
          if (i % 10 == 9) hot_session = start_session(c);
        } else {
          timed([&] {
            return c.post("/v1/customers", R"({"name":"Load )" + std::to_string(i) + "\"}");
          });
        }
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
  std::printf("workload=%s threads=%d active=%ld seconds=%.1f requests=%zu errors=%ld\n",
              workload.c_str(), threads, active, elapsed, all.size(), errors.load());
  std::printf("server RSS %ld MB before the run, %ld MB after\n", rss_before / 1024,
              server.rss_kb() / 1024);
  std::printf("throughput=%.0f req/s  p50=%.2f ms  p90=%.2f ms  p99=%.2f ms  max=%.2f ms\n",
              static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.9), pct(0.99),
              all.empty() ? 0.0 : all.back());
  std::printf("by quarter of the run: %.0f, %.0f, %.0f, %.0f req/s\n",
              4.0 * static_cast<double>(per_quarter[0].load()) / seconds,
              4.0 * static_cast<double>(per_quarter[1].load()) / seconds,
              4.0 * static_cast<double>(per_quarter[2].load()) / seconds,
              4.0 * static_cast<double>(per_quarter[3].load()) / seconds);
  if (kept) {
    // Let the projector apply the last events before the server stops.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    std::printf("data left in %s (server exit %d)\n", data.c_str(), server.stop());
  }
  return errors.load() == 0 ? 0 : 1;
}
