#pragma once

#include "domain/evolve.h"
#include "domain/state.h"
#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"

#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace tally::commands {

// Where an aggregate is kept in a kv_store: "a/<tenant>/<key>".
std::string aggregate_store_key(const ids::tenant& tenant, std::string_view key);

// The deciders' state: every aggregate of every tenant of one partition, in a
// kv_store, with a bounded LRU cache in memory. Changes are made in a
// `working set` for the batch of commands being decided; `stage` turns them
// into a kv_batch that the decider writes to its store once the events are
// in the log, and `commit` makes them visible in the cache — or `discard`
// forgets them when the append failed, so nothing half-written is ever seen.
//
// Owned and used by one decider thread; not thread-safe.
class write_model {
 public:
  write_model(ports::kv_store& store, std::size_t cache_capacity);

  // A tenant's aggregates as decide and evolve see them, through the working set.
  class tenant_state final : public state_access {
   public:
    tenant_state(write_model& m, ids::tenant t) : model_(m), tenant_(std::move(t)) {}
    [[nodiscard]] const aggregate* find(std::string_view key) const override;
    [[nodiscard]] aggregate* find_mut(std::string_view key) override;
    aggregate& put(std::string_view key, aggregate value) override;
    void erase(std::string_view key) override;

   private:
    write_model& model_;
    ids::tenant tenant_;
  };

  tenant_state for_tenant(const ids::tenant& t) { return tenant_state(*this, t); }

  // Writes every changed aggregate of the working set into `batch`.
  void stage(ports::kv_batch& batch) const;
  void commit();
  void discard();
  // Forgets the cache too: the next reads come from the store (a reload).
  void clear();

  // The log position the stored state reflects (per partition), and the key
  // under which it is stored alongside.
  [[nodiscard]] std::optional<std::int64_t> checkpoint(std::int32_t partition) const;
  static std::string checkpoint_key(std::int32_t partition);
  // Changes whenever what the aggregates hold changes (see
  // projections/keys.h, layout::version): a store of another version is
  // emptied and the deciders replay the log into it.
  // 2: December (issue 17): picked units on holds and items, payments on
  //    session invoices, paid_at, host names, feedback.
  // 3: issue #24: attendance records carry when they were recorded.
  static constexpr std::string_view layout_version = "3";

  [[nodiscard]] std::size_t cached() const { return lru_.size(); }

 private:
  struct slot {
    std::optional<aggregate> value;  // nullopt: erased / absent
    bool dirty = false;
  };
  slot& working(const std::string& full_key);

  ports::kv_store& store_;
  std::size_t capacity_;
  std::map<std::string, slot, std::less<>> working_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, std::pair<aggregate, std::list<std::string>::iterator>> cache_;
};

}  // namespace tally::commands
