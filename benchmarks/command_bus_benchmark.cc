// Commands per second through the decider into the embedded log, which
// fsyncs every batch: with more concurrent submitters, more commands share
// one sync (group commit).

#include "commands/command_bus.h"
#include "infra/embedded_log.h"

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>

using namespace tally;
namespace fs = std::filesystem;

namespace {

void receipts(benchmark::State& state) {
  const auto dir =
      fs::temp_directory_path() / ("tally-bench-" + std::to_string(std::random_device{}()));
  {
    auto log = std::move(*infra::embedded_log::open(dir.string()));
    fixed_clock clock{timestamp{}};
    commands::command_bus bus(*log, log->state_store(), clock, {});
    if (!bus.start()) state.SkipWithError("cannot start");
    auto make = [](command c) {
      commands::command_request r;
      r.tenant = ids::tenant{"acme"};
      r.actor = ids::user{"bench"};
      r.actor_is_admin = true;
      r.cmd = std::move(c);
      return r;
    };
    std::mutex m;
    std::condition_variable cv;
    std::int64_t done = 0;
    bus.submit(make(put_item{ids::item{"tea"}, "Tea", {}, 100, {}}), [&](commands::command_reply) {
      std::lock_guard lock(m);
      ++done;
      cv.notify_all();
    });
    const auto concurrency = state.range(0);
    std::int64_t submitted = 1;
    for (auto _ : state) {
      // Keep `concurrency` commands in flight, like that many clients would.
      for (std::int64_t i = 0; i < concurrency; ++i, ++submitted) {
        bus.submit(make(receive_stock{ids::item{"tea"}, 1}), [&](commands::command_reply) {
          std::lock_guard lock(m);
          ++done;
          cv.notify_all();
        });
      }
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return done == submitted; });
    }
    state.SetItemsProcessed(state.iterations() * concurrency);
    bus.stop();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}
BENCHMARK(receipts)->Arg(1)->Arg(8)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
