#pragma once

#include "infra/ports/kv_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace tally::infra {

std::string describe(const rocksdb::Status& s);
error to_error(const rocksdb::Status& s, std::string_view what);

// A RocksDB database with named column families, opened (and created) at a
// path. Owns the handles; closes on destruction.
//
// The database is used only inside with_db(), which lends it (and its
// column-family handles) under a shared lock, because it may be reopened.
// That is how it lives through a full disk (docs/operations.md, "When the
// disk fills"):
// - below `min_free_bytes` of free space, write() refuses with
//   errc::unavailable before RocksDB sees the write;
// - a write that fails anyway (ENOSPC, an I/O error) puts it in a refusing
//   state: nothing is written after a failed write. RocksDB 7.8 cannot be
//   trusted to resume from a failed WAL append (its file writer asserts on
//   the next append, and Resume() leaves that writer in place), so recovery
//   closes the database and opens it again, which drops the failed record
//   from the WAL's tail;
// - every write while refusing looks again, at most every 500 ms, and
//   recovers once the disk has room.
// Thread-safe.
class rocks_db {
 public:
  static constexpr std::uint64_t default_min_free_bytes = 64ull << 20;

  static result<std::unique_ptr<rocks_db>> open(
      const std::string& path, const std::vector<std::string>& families,
      std::uint64_t min_free_bytes = default_min_free_bytes);
  ~rocks_db();
  rocks_db(const rocks_db&) = delete;
  rocks_db& operator=(const rocks_db&) = delete;

  // Calls fn(db, family) under the shared lock; `family(name)` gives the
  // handle of a column family, valid only inside fn.
  struct lent {
    rocksdb::DB& db;
    const rocks_db& owner;
    [[nodiscard]] rocksdb::ColumnFamilyHandle* family(const std::string& name) const {
      return owner.family_locked(name);
    }
  };
  template <class F>
  auto with_db(F&& fn) const {
    std::shared_lock lock(gate_);
    return fn(lent{*db_, *this});
  }

  // Writes the batch that `fill` builds (inside the shared lock, so its
  // handles are current), or refuses as above.
  [[nodiscard]] status write(const rocksdb::WriteOptions& options,
                             const std::function<status(const lent&, rocksdb::WriteBatch&)>& fill);
  // ok while writes are accepted; otherwise why not (errc::unavailable).
  [[nodiscard]] status writable();
  // Free bytes on the disk that holds the database.
  [[nodiscard]] std::uint64_t free_bytes() const;

 private:
  rocks_db() = default;
  status open_locked();
  void close_locked();
  // Looks at free space and, when refusing, recovers. Takes the locks itself.
  void check();
  [[nodiscard]] rocksdb::ColumnFamilyHandle* family_locked(const std::string& name) const;

  std::string path_;
  std::vector<std::string> families_;
  std::uint64_t min_free_bytes_ = default_min_free_bytes;
  mutable std::shared_mutex gate_;  // shared: using the database; exclusive: reopening it
  std::mutex state_mutex_;          // guards the three below
  std::optional<error> refusing_;   // why writes are refused, while they are
  bool failed_write_ = false;       // a write failed: recovery reopens
  std::chrono::steady_clock::time_point next_check_{};
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::string> names_;
};

// kv_store over one column family. Writes are not fsynced unless `sync`: the
// stores built on it are derived from the log and recover from it.
class rocks_kv final : public ports::kv_store {
 public:
  rocks_kv(rocks_db& db, std::string family, bool sync = false)
      : db_(db), family_(std::move(family)), sync_(sync) {}
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const override;
  [[nodiscard]] status write(const ports::kv_batch& batch) override;
  [[nodiscard]] status writable() const override { return db_.writable(); }
  void scan(std::string_view prefix, std::string_view from,
            const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  void scan_reverse(
      std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  // Adds `batch` to a RocksDB write batch for this family (inside with_db or write).
  [[nodiscard]] status add_to(const rocks_db::lent& db, rocksdb::WriteBatch& wb,
                              const ports::kv_batch& batch) const;

 private:
  rocks_db& db_;
  std::string family_;
  bool sync_;
};

}  // namespace tally::infra
