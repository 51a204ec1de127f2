#pragma once

#include "domain/error.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::ports {

// Changes applied atomically, all or none.
struct kv_batch {
  std::vector<std::pair<std::string, std::string>> puts;
  std::vector<std::string> deletes;
  void put(std::string key, std::string value) {
    puts.emplace_back(std::move(key), std::move(value));
  }
  void erase(std::string key) { deletes.push_back(std::move(key)); }
  [[nodiscard]] bool empty() const { return puts.empty() && deletes.empty(); }
};

// An ordered key-value store (RocksDB in infra/). Keys compare bytewise.
// Thread-safe.
class kv_store {
 public:
  virtual ~kv_store() = default;
  [[nodiscard]] virtual std::optional<std::string> get(std::string_view key) const = 0;
  [[nodiscard]] virtual status write(const kv_batch& batch) = 0;
  // ok while writes can succeed as far as the store knows (a full disk:
  // errc::unavailable), so that a writer can refuse before it acts.
  [[nodiscard]] virtual status writable() const { return ok(); }
  // Visits keys with `prefix`, in order, starting at `from` (inclusive; empty:
  // the first) until `visit` returns false.
  virtual void scan(
      std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
  // The same in descending order: from `from` (inclusive; empty: the last
  // key with `prefix`) down.
  virtual void scan_reverse(
      std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
};

}  // namespace tally::ports
