#pragma once

// The writes of one batch of events to the read-model store, read through
// (projector.cc and insights.cc share it; not for other folders).

#include "base/json.h"
#include "domain/state.h"
#include "domain/state_codec.h"
#include "infra/ports/kv_store.h"
#include "projections/keys.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

namespace tally::projections {

// The changes of one batch: the last write of a key wins.
class batch_writes {
 public:
  explicit batch_writes(ports::kv_store& store) : store_(store) {}

  void put(std::string key, std::string value) { writes_[std::move(key)] = std::move(value); }

  // A read model kept as one JSON document under `key` (a day's analytics,
  // a customer's figures), read through the batch and written at its end.
  template <class T>
  T& doc(const std::string& key) {
    auto it = docs_.find(key);
    if (it == docs_.end()) {
      auto value = std::make_shared<T>();
      if (auto stored = store_.get(key)) *value = read_doc<T>(key, *stored);
      it = docs_.emplace(key, doc_slot{value, [value] { return json::write(*value); }}).first;
    }
    return *static_cast<T*>(it->second.value.get());
  }
  // The same document, read only: nothing is written for it.
  template <class T>
  [[nodiscard]] T peek(const std::string& key) const {
    if (auto it = docs_.find(key); it != docs_.end())
      return *static_cast<const T*>(it->second.value.get());
    if (auto stored = store_.get(key)) return read_doc<T>(key, *stored);
    return T{};
  }
  [[nodiscard]] std::optional<std::string> get(const std::string& key) const {
    if (auto it = writes_.find(key); it != writes_.end()) return it->second;
    return store_.get(key);
  }
  void erase(std::string key) { writes_[std::move(key)] = std::nullopt; }

  // Aggregates, read through the batch.
  class tenant_view final : public state_access {
   public:
    tenant_view(batch_writes& b, ids::tenant t) : b_(b), t_(std::move(t)) {}
    [[nodiscard]] const aggregate* find(std::string_view key) const override {
      return b_.load(t_, key);
    }
    [[nodiscard]] aggregate* find_mut(std::string_view key) override {
      aggregate* a = b_.load(t_, key);
      if (a) b_.dirty_.insert(layout::aggregate(t_, key));
      return a;
    }
    aggregate& put(std::string_view key, aggregate value) override {
      const std::string k = layout::aggregate(t_, key);
      b_.dirty_.insert(k);
      auto& slot = b_.aggregates_[k];
      slot = std::move(value);
      return *slot;
    }
    void erase(std::string_view key) override {
      const std::string k = layout::aggregate(t_, key);
      b_.dirty_.insert(k);
      b_.aggregates_[k].reset();
    }

   private:
    batch_writes& b_;
    ids::tenant t_;
  };

  ports::kv_batch finish() {
    for (const auto& [k, d] : docs_) writes_[k] = d.write();
    for (const auto& k : dirty_) {
      const auto& a = aggregates_[k];
      if (a)
        writes_[k] = encode_aggregate(*a);
      else
        writes_[k] = std::nullopt;
    }
    ports::kv_batch batch;
    for (auto& [k, v] : writes_) {
      if (v)
        batch.put(k, std::move(*v));
      else
        batch.erase(k);
    }
    return batch;
  }

 private:
  // A stored document that does not read stops its tenant's projection
  // (projector.cc): never silently started again from zero.
  template <class T>
  static T read_doc(const std::string& key, const std::string& stored) {
    auto v = json::read_own<T>(stored);
    if (!v) throw std::runtime_error("unreadable read model under " + key);
    return std::move(*v);
  }

  aggregate* load(const ids::tenant& t, std::string_view key) {
    const std::string k = layout::aggregate(t, key);
    auto it = aggregates_.find(k);
    if (it == aggregates_.end()) {
      std::optional<aggregate> a;
      if (auto stored = store_.get(k)) {
        a = decode_aggregate(key, *stored);
        if (!a) throw std::runtime_error("unreadable read model under " + k);
      }
      it = aggregates_.emplace(k, std::move(a)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  ports::kv_store& store_;
  std::map<std::string, std::optional<aggregate>> aggregates_;
  std::set<std::string> dirty_;
  std::map<std::string, std::optional<std::string>> writes_;
  struct doc_slot {
    std::shared_ptr<void> value;
    std::function<std::string()> write;
  };
  std::map<std::string, doc_slot> docs_;
};

}  // namespace tally::projections
