// Store size: what a data directory of a stopped `tally serve` holds on
// disk, per database, column family and read model, after a full
// compaction, and per event.
//
//   store_size DATA_DIR
//
// Every RocksDB database under DATA_DIR (log, views, webhooks…) is opened,
// each column family compacted (so that overwritten aggregates and deleted
// keys no longer count), and measured: its table files' bytes, and per key
// family (the key's first segment, "a", "e", "h", "x"…; keys.h) the keys and
// their key and value bytes. The event count is the log's `events` family
// (the embedded log), else the views' e/ rows.
//
// Not a Google Benchmark: it measures bytes, once, on a directory that the
// load harness left (TALLY_BENCH_DATA, benchmarks/load_harness.cc).

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct family_size {
  std::uint64_t keys = 0;
  std::uint64_t key_bytes = 0;
  std::uint64_t value_bytes = 0;
};

std::uint64_t files_bytes(const fs::path& dir, const std::string& ext) {
  std::uint64_t n = 0;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.is_regular_file() && f.path().extension() == ext) n += f.file_size();
  return n;
}

// A text key's first segment ("a" of "a/acme/…"); "-" for a binary key
// (the log's big-endian offsets).
std::string key_family(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash > 16) return "-";
  for (char c : key.substr(0, slash))
    if (c < 'a' || c > 'z') return "-";
  return std::string(key.substr(0, slash));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: store_size DATA_DIR\n");
    return 2;
  }
  const fs::path data(argv[1]);
  std::uint64_t total = 0;
  std::uint64_t log_events = 0;
  std::uint64_t view_events = 0;
  std::printf("%-9s %-9s %-4s %10s %12s %12s\n", "database", "family", "keys", "count", "key bytes",
              "value bytes");
  for (const auto& entry : fs::directory_iterator(data)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "CURRENT")) continue;
    const std::string db_name = entry.path().filename().string();
    std::vector<std::string> names;
    if (auto s =
            rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), entry.path().string(), &names);
        !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", db_name.c_str(), s.ToString().c_str());
      return 1;
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    if (auto s = rocksdb::DB::Open(rocksdb::DBOptions(), entry.path().string(), families, &handles,
                                   &raw);
        !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", db_name.c_str(), s.ToString().c_str());
      return 1;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    for (std::size_t i = 0; i < handles.size(); ++i) {
      rocksdb::CompactRangeOptions o;
      o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      (void)db->CompactRange(o, handles[i], nullptr, nullptr);
      std::map<std::string, family_size> by_prefix;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const auto key = it->key().ToStringView();
        auto& f = by_prefix[key_family(key)];
        ++f.keys;
        f.key_bytes += key.size();
        f.value_bytes += it->value().size();
      }
      if (db_name == "log" && names[i] == "events")
        for (const auto& [p, f] : by_prefix) log_events += f.keys;
      if (db_name == "views" && by_prefix.contains("e")) view_events = by_prefix["e"].keys;
      for (const auto& [p, f] : by_prefix)
        std::printf("%-9s %-9s %-4s %10llu %12llu %12llu\n", db_name.c_str(), names[i].c_str(),
                    p.c_str(), static_cast<unsigned long long>(f.keys),
                    static_cast<unsigned long long>(f.key_bytes),
                    static_cast<unsigned long long>(f.value_bytes));
    }
    for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    db.reset();
    const auto sst = files_bytes(entry.path(), ".sst");
    const auto wal = files_bytes(entry.path(), ".log");
    std::printf("%-9s table files %llu bytes, WAL %llu bytes (after compaction)\n", db_name.c_str(),
                static_cast<unsigned long long>(sst), static_cast<unsigned long long>(wal));
    total += sst + wal;
  }
  const auto events = log_events ? log_events : view_events;
  std::printf("events=%llu total=%llu bytes", static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(total));
  if (events)
    std::printf(" bytes_per_event=%.0f", static_cast<double>(total) / static_cast<double>(events));
  std::printf("\n");
  return 0;
}
