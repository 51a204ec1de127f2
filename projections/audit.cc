#include "projections/audit.h"

#include "domain/chain.h"
#include "projections/feed.h"

#include <map>

namespace tally::projections {

result<std::vector<chain_report>> verify_chains(const ports::event_log& log,
                                                const std::optional<ids::tenant>& only) {
  std::map<std::string, chain_verifier> chains;
  std::vector<std::int32_t> partitions;
  if (only) {
    partitions.push_back(log.partition_of(*only));
    chains[only->value];  // a tenant without events: an empty chain that holds
  } else {
    for (std::int32_t p = 0; p < log.partition_count(); ++p) partitions.push_back(p);
  }
  for (const auto p : partitions) {
    auto cursor = log.open(p, 0);
    if (!cursor) return std::move(cursor).take_error();
    for (bool waited = false;;) {
      auto batch = (*cursor)->poll(1000, std::chrono::milliseconds(waited ? 100 : 0));
      if (!batch) return std::move(batch).take_error();
      for (const auto& r : batch->events) {
        if (only && r.event.tenant != *only) continue;
        chains[r.event.tenant.value].add(cloud_event_with_position(r));
      }
      if (batch->at_end) break;
      // A log that cannot say yet whether there is more (Kafka): ask again, waiting.
      waited = batch->events.empty();
    }
  }
  std::vector<chain_report> out;
  for (const auto& [tenant, v] : chains) {
    chain_report r{tenant, v.events(),          v.head(),
                   v.ok(), v.failed_position(), v.failure().value_or("")};
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tally::projections
