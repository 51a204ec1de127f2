// Issue #9's "answer in milliseconds": customer search and the analytics
// summary over 100 000 customers and 1 000 000 sessions (3.6 M events),
// projected once into a views store under $TALLY_BENCH_DIR (default
// /tmp/tally-insights-bench-<customers>-<sessions>) and reused by later runs.
//
//   build/release/benchmarks/insights_benchmark
//   TALLY_BENCH_CUSTOMERS=10000 TALLY_BENCH_SESSIONS=100000
//   build/release/benchmarks/insights_benchmark

#include "base/zone.h"
#include "domain/clock.h"
#include "infra/embedded_log.h"
#include "infra/rocks.h"
#include "projections/projector.h"
#include "projections/queries.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

using namespace tally;
namespace fs = std::filesystem;

namespace {

std::int64_t env_or(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

const char* const first_names[] = {
    "Ann", "Ben", "Cat",  "Dan",  "Eve",  "Finn", "Gus",  "Hal",  "Ida",   "Jo",
    "Kim", "Lea", "Max",  "Nia",  "Oli",  "Pia",  "Quin", "Ray",  "Sue",   "Tom",
    "Uma", "Vic", "Wes",  "Xia",  "Yan",  "Zoe",  "Amir", "Bea",  "Cyd",   "Dora",
    "Eli", "Fay", "Gil",  "Hana", "Ivo",  "Jana", "Kurt", "Lia",  "Mo",    "Ned",
    "Ona", "Pat", "Rosa", "Sven", "Tara", "Ugo",  "Vera", "Walt", "Yusuf", "Zane"};
const char* const last_names[] = {
    "Smith",   "Jones",    "Brown",  "Taylor",   "Wilson",   "Davies",   "Evans",  "Thomas",
    "Roberts", "Johnson",  "Walker", "Wright",   "Robinson", "Thompson", "White",  "Hughes",
    "Edwards", "Green",    "Hall",   "Wood",     "Harris",   "Lewis",    "Martin", "Jackson",
    "Clarke",  "Clark",    "Turner", "Hill",     "Scott",    "Cooper",   "Morris", "Ward",
    "Moore",   "King",     "Watson", "Baker",    "Harrison", "Morgan",   "Patel",  "Young",
    "Allen",   "Mitchell", "James",  "Anderson", "Phillips", "Lee",      "Bell",   "Parker",
    "Davis",   "Kaur"};

struct dataset {
  std::int64_t customers = 0, sessions = 0;
  std::unique_ptr<infra::embedded_log> log;
  std::unique_ptr<infra::rocks_db> views_db;
  std::unique_ptr<infra::rocks_kv> views;
  fixed_clock clock{timestamp{}};
  std::unique_ptr<projections::queries> queries;
  timestamp base;
};

std::string name_of(std::int64_t c) {
  return fmt::format("{} {}", first_names[c % 50], last_names[(c / 50) % 50]);
}

dataset& data() {
  static dataset d = [] {
    dataset d;
    d.customers = env_or("TALLY_BENCH_CUSTOMERS", 100'000);
    d.sessions = env_or("TALLY_BENCH_SESSIONS", 1'000'000);
    const char* dir_env = std::getenv("TALLY_BENCH_DIR");
    const fs::path dir =
        dir_env && *dir_env
            ? fs::path(dir_env)
            : fs::path(fmt::format("/tmp/tally-insights-bench-{}-{}", d.customers, d.sessions));
    d.base = std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});
    d.clock = fixed_clock{d.base + std::chrono::days(366)};
    const bool complete = fs::exists(dir / "complete");
    if (!complete) fs::remove_all(dir);
    fs::create_directories(dir);
    auto log = infra::embedded_log::open((dir / "log").string(), 0);
    auto views = infra::rocks_db::open((dir / "views").string(), {"views"}, 0);
    if (!log || !views) {
      std::cerr << "cannot open the stores in " << dir << "\n";
      std::exit(1);
    }
    d.log = std::move(*log);
    d.views_db = std::move(*views);
    d.views = std::make_unique<infra::rocks_kv>(*d.views_db, "views");
    if (!complete) {
      const auto started = std::chrono::steady_clock::now();
      const ids::tenant t{"acme"};
      std::vector<event> batch;
      std::int64_t n = 0;
      auto add = [&](stream_id stream, std::int64_t version, timestamp time, event_data data) {
        event e;
        e.id = ids::event{fmt::format("e{}", ++n)};
        e.tenant = t;
        e.stream = std::move(stream);
        e.stream_version = tally::version{version};
        e.time = time;
        e.actor = ids::user{"bench"};
        e.correlation_id = e.id.value;
        e.data = std::move(data);
        batch.push_back(std::move(e));
        if (batch.size() == 2000) {
          if (!d.log->append(0, batch)) {
            std::cerr << "append failed\n";
            std::exit(1);
          }
          batch.clear();
        }
      };
      std::vector<std::int64_t> versions(static_cast<std::size_t>(d.customers), 1);
      for (std::int64_t c = 0; c < d.customers; ++c) {
        const auto id = fmt::format("c{}", c);
        add(stream_id::of(ids::customer{id}), 1, d.base + std::chrono::seconds(c * 300),
            customer_registered{ids::customer{id}, name_of(c),
                                fmt::format("{}.{}@example.com", first_names[c % 50], c),
                                fmt::format("+1 555 {:07}", c), false});
      }
      for (std::int64_t i = 0; i < d.sessions; ++i) {
        const std::int64_t c = (i * 7919) % d.customers;
        const auto sid = fmt::format("s{}", i);
        const auto stream = stream_id::of(ids::session{sid});
        const timestamp at = d.base + std::chrono::seconds(i * 365 * 86400 / d.sessions);
        const auto kind = i % 10 < 7 ? session_kind::shopping : session_kind::metered;
        const ids::customer cid{fmt::format("c{}", c)};
        add(stream, 1, at,
            session_started{ids::session{sid},
                            kind,
                            customer_ref{cid, name_of(c), false},
                            ids::user{"host"},
                            {},
                            {},
                            at,
                            {}});
        if (i >= d.sessions - 500) continue;  // still active
        const bool completed = i % 10 != 9;
        const cents total = completed ? 1000 + (i % 5000) : 0;
        const timestamp end = at + std::chrono::minutes(30);
        session_ended ended;
        ended.session_id = ids::session{sid};
        ended.kind = kind;
        ended.outcome = completed ? session_outcome::completed : session_outcome::cancelled;
        ended.ended_at = end;
        ended.customer_id = cid;
        ended.total_cents = total;
        add(stream, 2, end, ended);
        if (!completed) continue;
        add(stream, 3, end,
            charge_processed{ids::session{sid},
                             cid,
                             ids::charge{"ch" + sid},
                             total,
                             charge_reason::time_and_items,
                             {},
                             {}});
        if (i % 5 == 0) continue;  // unpaid
        add(stream, 4, end + std::chrono::minutes(1),
            payment_recorded{ids::session{sid},
                             {},
                             cid,
                             ids::payment{"p" + sid},
                             total,
                             "card",
                             total,
                             payment_status::paid});
      }
      if (!batch.empty() && !d.log->append(0, batch)) std::exit(1);
      const auto appended = std::chrono::steady_clock::now();
      projections::projector projector(*d.log, *d.views);
      if (!projector.catch_up()) {
        std::cerr << "projection failed\n";
        std::exit(1);
      }
      const auto projected = std::chrono::steady_clock::now();
      std::ofstream(dir / "complete") << n << " events\n";
      using std::chrono::duration_cast;
      using std::chrono::seconds;
      std::cerr << fmt::format(
          "{} events: appended in {} s, projected in {} s ({} events/s)\n", n,
          duration_cast<seconds>(appended - started).count(),
          duration_cast<seconds>(projected - appended).count(),
          n / std::max<std::int64_t>(1, duration_cast<seconds>(projected - appended).count()));
    }
    d.queries = std::make_unique<projections::queries>(*d.views, d.clock);
    return d;
  }();
  return d;
}

void customer_search(benchmark::State& state, projections::customer_filter f) {
  auto& d = data();
  std::size_t items = 0;
  for (auto _ : state) {
    auto r = d.queries->customers(ids::tenant{"acme"}, f, {50, ""});
    if (!r) state.SkipWithError(r.err().detail.c_str());
    items = 0;
    for (auto at = r->find("\"customer_id\""); at != std::string::npos;
         at = r->find("\"customer_id\"", at + 1))
      ++items;
    benchmark::DoNotOptimize(r);
  }
  state.counters["customers"] = static_cast<double>(items);
}

BENCHMARK_CAPTURE(customer_search, first_page_no_filter, projections::customer_filter{});
BENCHMARK_CAPTURE(customer_search, q_last_name, projections::customer_filter{.q = "johnson"});
BENCHMARK_CAPTURE(customer_search, q_one_email, projections::customer_filter{.q = "ann.12350@"});
BENCHMARK_CAPTURE(customer_search, q_phone_digits, projections::customer_filter{.q = "555 00123"});
BENCHMARK_CAPTURE(customer_search, has_active_session,
                  projections::customer_filter{.has_active_session = true});
BENCHMARK_CAPTURE(customer_search, q_and_min_sessions,
                  projections::customer_filter{.q = "smith", .min_sessions = 12});

void analytics_summary(benchmark::State& state) {
  auto& d = data();
  const auto from = format_day(std::chrono::floor<std::chrono::days>(d.base));
  const auto to =
      format_day(std::chrono::floor<std::chrono::days>(d.base) + std::chrono::days(state.range(0)));
  for (auto _ : state) {
    auto r = d.queries->analytics(ids::tenant{"acme"}, from, to);
    if (!r) state.SkipWithError(r.err().detail.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(analytics_summary)->Arg(1)->Arg(30)->Arg(365)->Unit(benchmark::kMillisecond);

// The last 30 days of the year: the most recently written buckets.
void analytics_summary_last_30_days(benchmark::State& state) {
  auto& d = data();
  const auto end = std::chrono::floor<std::chrono::days>(d.base) + std::chrono::days(365);
  const auto from = format_day(end - std::chrono::days(30));
  const auto to = format_day(end);
  for (auto _ : state) {
    auto r = d.queries->analytics(ids::tenant{"acme"}, from, to);
    if (!r) state.SkipWithError(r.err().detail.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(analytics_summary_last_30_days)->Unit(benchmark::kMillisecond);

void customer_stats(benchmark::State& state) {
  auto& d = data();
  std::int64_t c = 0;
  for (auto _ : state) {
    auto r = d.queries->customer_stats(ids::tenant{"acme"},
                                       ids::customer{fmt::format("c{}", c++ % d.customers)});
    if (!r) state.SkipWithError(r.err().detail.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(customer_stats);

}  // namespace

BENCHMARK_MAIN();
