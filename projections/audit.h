#pragma once

// Walks the log and checks every tenant's hash chain (docs/audit.md):
// GET /v1/audit/verify and `tally verify --data`.

#include "domain/error.h"
#include "domain/ids.h"
#include "infra/ports/event_log.h"

#include <optional>
#include <string>
#include <vector>

namespace tally::projections {

struct chain_report {
  std::string tenant;
  std::int64_t events = 0;  // that verified (all of them when ok)
  std::string head;         // the hash of the last event that verified
  bool ok = true;
  std::string position;  // where it breaks
  std::string reason;
};

// Reads the log from its start (the tenant's partition only when `only` is
// given) and checks each tenant's chain in log order, stopping a tenant's
// check at its first break. Costs one read of the partitions involved.
result<std::vector<chain_report>> verify_chains(const ports::event_log& log,
                                                const std::optional<ids::tenant>& only);

}  // namespace tally::projections
