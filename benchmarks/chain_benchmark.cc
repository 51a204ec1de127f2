// What the hash chain adds to each event a decider appends (docs/audit.md):
// the CloudEvent object, its JCS form (base/jcs.h) and SHA-256.

#include "base/digest.h"
#include "base/jcs.h"
#include "domain/chain.h"
#include "domain/event_codec.h"

#include <benchmark/benchmark.h>

using namespace tally;

namespace {

event sample() {
  event e;
  e.id = ids::event{"0b7d3f3e-2f6a-4c51-9a53-5e1f2b7c9d10"};
  e.tenant = ids::tenant{"acme"};
  item_added d;
  d.session_id = ids::session{"5e1f2b7c-9d10-4c51-9a53-0b7d3f3e2f6a"};
  d.line_id = ids::line{"l1"};
  d.item_id = ids::item{"tea"};
  d.name = "Green tea";
  d.quantity = 2;
  e.data = d;
  e.stream = stream_of(e.tenant, e.data);
  e.stream_version = version{7};
  e.actor = ids::user{"host-1"};
  e.actor_name = "Hana";
  e.correlation_id = "k-123";
  e.prevhash = std::string(genesis_hash);
  return e;
}

void hash_an_item_added_event(benchmark::State& state) {
  const auto e = sample();
  for (auto _ : state) benchmark::DoNotOptimize(chain_hash(e));
}
BENCHMARK(hash_an_item_added_event);

// The same with the check that keeps the log readable (issue #27): a
// CloudEvent that is not I-JSON has no hash and is never appended.
void hash_to_append_an_item_added_event(benchmark::State& state) {
  const auto e = sample();
  for (auto _ : state) benchmark::DoNotOptimize(hash_to_append(e));
}
BENCHMARK(hash_to_append_an_item_added_event);

// Its parts: the object, its canonical form, the digest.
void of_which_the_cloud_event_object(benchmark::State& state) {
  const auto e = sample();
  for (auto _ : state) benchmark::DoNotOptimize(cloud_event_object(e));
}
BENCHMARK(of_which_the_cloud_event_object);
void of_which_the_jcs_form(benchmark::State& state) {
  const boost::json::value o = cloud_event_object(sample());
  for (auto _ : state) benchmark::DoNotOptimize(canonical_json(o));
}
BENCHMARK(of_which_the_jcs_form);
void of_which_the_sha256(benchmark::State& state) {
  const auto text = canonical_json(cloud_event_object(sample()));
  for (auto _ : state) benchmark::DoNotOptimize(sha256_hex(text));
}
BENCHMARK(of_which_the_sha256);

}  // namespace

BENCHMARK_MAIN();
