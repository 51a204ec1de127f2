#pragma once

// A data directory's stored log (or any RocksDB store of it) opened beside
// the stopped server, to be edited as an attacker with the disk would, or
// as a damaged disk does: the audit and the unreadable-record tests.

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tally::testing {

struct raw_log {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;

  explicit raw_log(const std::string& data_dir, const std::string& store = "log",
                   const std::string& family = "events") {
    const std::string path = data_dir + "/" + store;
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
    db.reset(raw);
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == family) events = handles[i];
  }
  ~raw_log() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  static std::string key(std::int64_t offset) {
    std::string k(8, '\0');
    for (int i = 7; i >= 0; --i, offset >>= 8)
      k[static_cast<std::size_t>(i)] = static_cast<char>(offset & 0xff);
    return k;
  }
  std::string get(std::int64_t offset) {
    std::string v;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), events, key(offset), &v).ok()) << offset;
    return v;
  }
  void put(std::int64_t offset, const std::string& v) {
    EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), events, key(offset), v).ok());
  }
  // Any key of the store (a read model's row).
  void put_key(const std::string& key, const std::string& v) {
    EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), events, key, v).ok());
  }
  void remove(std::int64_t offset) {
    EXPECT_TRUE(db->Delete(rocksdb::WriteOptions(), events, key(offset)).ok());
  }
  std::int64_t end() {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
    it->SeekToLast();
    std::int64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(it->key()[i]);
    return v + 1;
  }
  // The offset of the n-th event of `tenant` (0-based).
  std::int64_t nth(const std::string& tenant, int n) {
    for (std::int64_t o = 0; o < end(); ++o)
      if (get(o).find(R"("tenant":")" + tenant + "\"") != std::string::npos && n-- == 0) return o;
    ADD_FAILURE() << "no such event";
    return -1;
  }
};

}  // namespace tally::testing
