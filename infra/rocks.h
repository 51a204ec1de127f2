#pragma once

#include "infra/ports/kv_store.h"

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

namespace tally::infra {

std::string describe(const rocksdb::Status& s);
error to_error(const rocksdb::Status& s, std::string_view what);

// A RocksDB database with named column families, opened (and created) at a
// path. Owns the handles; closes on destruction.
class rocks_db {
 public:
  static result<std::unique_ptr<rocks_db>> open(const std::string& path,
                                                const std::vector<std::string>& families);
  ~rocks_db();
  rocks_db(const rocks_db&) = delete;
  rocks_db& operator=(const rocks_db&) = delete;

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* family(const std::string& name) const;

 private:
  rocks_db() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::string> names_;
};

// kv_store over one column family. Writes are not fsynced unless `sync`: the
// stores built on it are derived from the log and recover from it.
class rocks_kv final : public ports::kv_store {
 public:
  rocks_kv(rocks_db& db, rocksdb::ColumnFamilyHandle* family, bool sync = false)
      : db_(db), family_(family), sync_(sync) {}
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const override;
  [[nodiscard]] status write(const ports::kv_batch& batch) override;
  void scan(std::string_view prefix, std::string_view from,
            const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  // Adds `batch` to a RocksDB write batch for this family.
  void add_to(rocksdb::WriteBatch& wb, const ports::kv_batch& batch) const;

 private:
  rocks_db& db_;
  rocksdb::ColumnFamilyHandle* family_;
  bool sync_;
};

}  // namespace tally::infra
