#pragma once

// Walks the log and checks every tenant's hash chain (docs/audit.md):
// GET /v1/audit/verify and `tally verify --data`.

#include "domain/chain.h"
#include "domain/error.h"
#include "domain/ids.h"
#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"

#include <map>

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

// What a verifier found for `tenant`.
chain_report report_of(const std::string& tenant, const chain_verifier& v);

// Reads the log from its start (the tenant's partition only when `only` is
// given) and checks each tenant's chain in log order, stopping a tenant's
// check at its first break. Costs one read of the partitions involved.
result<std::vector<chain_report>> verify_chains(const ports::event_log& log,
                                                const std::optional<ids::tenant>& only);

// The read models of a views store (keys.h), each as a digest: `tally
// rebuild --verify` compares the live ones with ones rebuilt from the log.
struct model_digest {
  std::int64_t keys = 0;
  std::string sha256;  // of every key and value, in key order
};
// The read model a views key belongs to: "aggregates", "history", "events",
// "checkpoints", or the kind of an x/<tenant>/<kind>/... key ("sessions",
// "day", "cgram", ...).
std::string read_model_of(std::string_view key);
std::map<std::string, model_digest> digest_views(const ports::kv_store& views);
// The first key of `model` whose value differs between the stores, or that
// one has and the other not ("" if none).
std::string first_difference(const ports::kv_store& a, const ports::kv_store& b,
                             const std::string& model);

}  // namespace tally::projections
