#pragma once

#include "domain/ids.h"
#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tally::ports {

// Where a reader of the log stopped applying one tenant's events, and why:
// a record of theirs that cannot be read (unreadable_record), or their
// stored state that cannot. `tenant` is empty for a record whose tenant the
// log cannot tell (it stops no one; it is named so an operator looks).
struct tenant_stop {
  std::string tenant;
  position pos;  // of the record or event that stopped it
  std::string reason;
};

// The tenants a reader of the log (the projector, a decider) has stopped,
// kept in its own store under `prefix` and written in the same batch as its
// checkpoint, so that a restart is stopped at the same place: a history with
// a hole is never applied on. Cleared by emptying the store (`tally
// rebuild`) once an operator has repaired the cause (docs/operations.md,
// "A tenant's projection is stopped").
//
// Thread-safe. stopped() is on every event's path: without stops it is one
// atomic load.
class tenant_stops {
 public:
  explicit tenant_stops(std::string prefix) : prefix_(std::move(prefix)) {}

  void load(const kv_store& store) {
    std::lock_guard lock(m_);
    store.scan(prefix_, "", [&](std::string_view key, std::string_view value) {
      tenant_stop s;
      const auto name = key.substr(prefix_.size());
      if (!name.starts_with('?')) s.tenant = std::string(name);
      const auto tab = value.find('\t');
      s.pos = position::parse(value.substr(0, tab)).value_or(position{});
      if (tab != std::string_view::npos) s.reason = std::string(value.substr(tab + 1));
      stops_[std::string(key)] = std::move(s);
      return true;
    });
    any_ = !stops_.empty();
  }

  [[nodiscard]] bool stopped(const ids::tenant& t) const { return stop_of(t).has_value(); }
  // Whether an event of `t` at `p` comes at or after the tenant's stop: it
  // is not applied.
  [[nodiscard]] bool stopped_before(const ids::tenant& t, const position& p) const {
    auto s = stop_of(t);
    return s && s->pos <= p;
  }
  [[nodiscard]] std::optional<tenant_stop> stop_of(const ids::tenant& t) const {
    if (!any_.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(m_);
    auto it = stops_.find(prefix_ + t.value);
    if (it == stops_.end()) return std::nullopt;
    return it->second;
  }

  // Records `s` in `batch`, to be written with the checkpoint, and from now
  // on; true if it is new. A tenant keeps its first stop: a later one is
  // ignored, and the same one met again (a batch applied again after a
  // failed write) is written again.
  bool stop(tenant_stop s, kv_batch& batch) {
    const std::string key = prefix_ + (s.tenant.empty() ? "?" + s.pos.token() : s.tenant);
    std::lock_guard lock(m_);
    auto it = stops_.find(key);
    if (it != stops_.end() && it->second.pos != s.pos) return false;
    batch.put(key, s.pos.token() + "\t" + s.reason);
    const bool fresh = it == stops_.end();
    stops_.insert_or_assign(key, std::move(s));
    any_ = true;
    return fresh;
  }

  [[nodiscard]] std::vector<tenant_stop> all() const {
    std::lock_guard lock(m_);
    std::vector<tenant_stop> out;
    for (const auto& [key, s] : stops_) out.push_back(s);
    return out;
  }

 private:
  std::string prefix_;
  mutable std::mutex m_;
  std::map<std::string, tenant_stop> stops_;
  std::atomic<bool> any_{false};
};

}  // namespace tally::ports
