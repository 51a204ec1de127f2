#pragma once

#include "infra/ports/kv_store.h"

#include <map>
#include <mutex>

namespace tally::testing {

// An in-memory kv_store for tests.
class memory_kv final : public ports::kv_store {
 public:
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const override {
    std::lock_guard lock(m_);
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] status write(const ports::kv_batch& batch) override {
    std::lock_guard lock(m_);
    for (const auto& k : batch.deletes) data_.erase(k);
    for (const auto& [k, v] : batch.puts) data_[k] = v;
    return ok();
  }
  void scan(std::string_view prefix, std::string_view from,
            const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    std::lock_guard lock(m_);
    for (auto it = data_.lower_bound(from.empty() ? prefix : from); it != data_.end(); ++it) {
      if (!std::string_view(it->first).starts_with(prefix)) break;
      if (!visit(it->first, it->second)) break;
    }
  }
  void scan_reverse(
      std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    std::lock_guard lock(m_);
    auto it = from.empty() ? data_.end() : data_.upper_bound(from);
    if (from.empty()) {
      // Just past the keys with `prefix`.
      it = data_.lower_bound(prefix);
      while (it != data_.end() && std::string_view(it->first).starts_with(prefix)) ++it;
    }
    while (it != data_.begin()) {
      --it;
      if (!std::string_view(it->first).starts_with(prefix)) {
        if (it->first < prefix) break;
        continue;
      }
      if (!visit(it->first, it->second)) break;
    }
  }

 private:
  mutable std::recursive_mutex m_;  // a query reads rows while it scans
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace tally::testing
