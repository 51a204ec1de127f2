#include "projections/audit.h"

#include "base/digest.h"
#include "domain/chain.h"
#include "projections/feed.h"

#include <limits>
#include <map>

namespace tally::projections {

chain_report report_of(const std::string& tenant, const chain_verifier& v) {
  return {tenant, v.events(), v.head(), v.ok(), v.failed_position(), v.failure().value_or("")};
}

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
      // Events and unreadable records in log order: a record that cannot
      // be read breaks its tenant's chain where it is ("" for a record
      // whose tenant cannot be told).
      auto u = batch->unreadable.begin();
      auto unread_until = [&](const ports::position& p) {
        for (; u != batch->unreadable.end() && u->pos < p; ++u) {
          const std::string tenant = u->tenant ? u->tenant->value : "";
          if (only && tenant != only->value) continue;
          chains[tenant].unreadable(u->pos.token(), u->reason);
        }
      };
      for (const auto& r : batch->events) {
        unread_until(r.pos);
        if (only && r.event.tenant != *only) continue;
        chains[r.event.tenant.value].add(cloud_event_with_position(r));
      }
      unread_until(ports::position{p, std::numeric_limits<std::int64_t>::max()});
      if (batch->at_end) break;
      // A log that cannot say yet whether there is more (Kafka): ask again, waiting.
      waited = batch->empty();
    }
  }
  std::vector<chain_report> out;
  for (const auto& [tenant, v] : chains) out.push_back(report_of(tenant, v));
  return out;
}

std::string read_model_of(std::string_view key) {
  if (key.starts_with("a/")) return "aggregates";
  if (key.starts_with("h/")) return "history";
  if (key.starts_with("e/")) return "events";
  if (key.starts_with("m/")) return "checkpoints";
  if (key.starts_with("x/")) {
    // x/<tenant>/<kind>/...
    const auto tenant_end = key.find('/', 2);
    if (tenant_end != std::string_view::npos) {
      const auto kind = key.substr(tenant_end + 1);
      return std::string(kind.substr(0, kind.find('/')));
    }
  }
  return "other";
}

std::map<std::string, model_digest> digest_views(const ports::kv_store& views) {
  std::map<std::string, std::unique_ptr<sha256_stream>> streams;
  std::map<std::string, model_digest> out;
  views.scan("", "", [&](std::string_view key, std::string_view value) {
    const auto model = read_model_of(key);
    auto& st = streams[model];
    if (!st) st = std::make_unique<sha256_stream>();
    // Lengths first: no two different sequences of keys and values hash alike.
    st->update(std::to_string(key.size()) + ":" + std::to_string(value.size()) + ":");
    st->update(key);
    st->update(value);
    ++out[model].keys;
    return true;
  });
  for (auto& [model, st] : streams) out[model].sha256 = st->hex();
  return out;
}

std::string first_difference(const ports::kv_store& a, const ports::kv_store& b,
                             const std::string& model) {
  auto collect = [&](const ports::kv_store& s) {
    std::map<std::string, std::string> values;  // key: sha256 of the value
    s.scan("", "", [&](std::string_view key, std::string_view value) {
      if (read_model_of(key) == model) values.emplace(key, sha256_hex(value));
      return true;
    });
    return values;
  };
  const auto left = collect(a), right = collect(b);
  auto l = left.begin();
  auto r = right.begin();
  while (l != left.end() || r != right.end()) {
    if (r == right.end() || (l != left.end() && l->first < r->first)) return l->first;
    if (l == left.end() || r->first < l->first) return r->first;
    if (l->second != r->second) return l->first;
    ++l;
    ++r;
  }
  return "";
}

}  // namespace tally::projections
