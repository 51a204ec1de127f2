#include "domain/decide.h"
#include "domain/evolve.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

using namespace tally;

namespace {

void apply(memory_state& s, event_data d, std::int64_t& v) {
  event e;
  e.tenant = ids::tenant{"acme"};
  e.stream = stream_of(e.tenant, d);
  e.stream_version = version{++v};
  e.data = std::move(d);
  evolve(s, e);
}

void add_item_to_a_session(benchmark::State& state) {
  memory_state s;
  std::int64_t v = 0;
  apply(s, customer_registered{ids::customer{"c"}, "C", {}, {}, false}, v);
  apply(s, resource_registered{ids::resource{"r"}, "R", 600}, v);
  apply(s, item_registered{ids::item{"i"}, "I", "unit", 100, "A1"}, v);
  apply(s, stock_received{ids::item{"i"}, "I", 1'000'000, 1'000'000}, v);
  apply(s,
        session_started{ids::session{"s"},
                        session_kind::metered,
                        {ids::customer{"c"}, "C", false},
                        ids::user{"u"},
                        {},
                        resource_ref{ids::resource{"r"}, "R", 600},
                        timestamp{},
                        {}},
        v);
  for (std::int64_t i = 0; i < state.range(0); ++i)
    apply(s,
          item_added{ids::session{"s"}, ids::line{fmt::format("l{}", i)}, ids::item{"i"}, "I",
                     "unit", "A1", 1, 100, 100, 100, stock_effect::consumed},
          v);
  int n = 0;
  decide_context ctx{ids::tenant{"acme"}, ids::user{"u"}, {}, true, timestamp{}, [&] {
                       return fmt::format("x{}", ++n);
                     }};
  for (auto _ : state) {
    auto d = decide(add_item{ids::session{"s"}, ids::item{"i"}, 1, {}}, s, ctx);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(add_item_to_a_session)->Arg(1)->Arg(10)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
