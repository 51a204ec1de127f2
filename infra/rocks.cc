#include "infra/rocks.h"

#include <rocksdb/options.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <sys/statvfs.h>

namespace tally::infra {

std::string describe(const rocksdb::Status& s) { return s.ToString(); }

error to_error(const rocksdb::Status& s, std::string_view what) {
  // A full disk or a failing device is the operator's to fix and passes:
  // clients are told to retry (503), not that the server is broken.
  const bool passing = s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsNoSpace() ||
                       s.IsIOError() || s.subcode() == rocksdb::Status::kSpaceLimit;
  return make_error(passing ? errc::unavailable : errc::internal,
                    std::string(what) + ": " + s.ToString());
}

namespace {

std::uint64_t free_bytes_at(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string megabytes(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// Recovery reopens the database, which writes (a new WAL, the MANIFEST):
// only with real room, whatever the reserve is set to.
constexpr std::uint64_t recovery_floor = 32ull << 20;

// RocksDB's own LOG file is written through a file writer that, in the
// Debian build (7.8, assertions on), aborts the process on the first line
// logged after a failed write to it: exactly what a full disk causes. So
// RocksDB logs into ours instead (warnings and worse; its info chatter is
// not worth a second log stream).
class spdlog_logger final : public rocksdb::Logger {
 public:
  spdlog_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    const int n = std::vsnprintf(buf, sizeof buf, format, ap);
    if (n < 0) return;
    std::string_view text(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL)
      spdlog::error("rocksdb: {}", text);
    else
      spdlog::warn("rocksdb: {}", text);
  }
};

}  // namespace

result<std::unique_ptr<rocks_db>> rocks_db::open(const std::string& path,
                                                 const std::vector<std::string>& families,
                                                 std::uint64_t min_free_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  // Opening writes (a new WAL, the MANIFEST): on a full disk, say so plainly
  // instead of letting RocksDB fail half-way.
  if (const auto free = free_bytes_at(path); free < std::min(min_free_bytes, recovery_floor))
    return make_error(errc::unavailable, "cannot open " + path + ": the disk has " +
                                             megabytes(free) + " free, at least " +
                                             megabytes(std::min(min_free_bytes, recovery_floor)) +
                                             " are needed");
  std::unique_ptr<rocks_db> out(new rocks_db());
  out->path_ = path;
  out->families_ = families;
  out->min_free_bytes_ = min_free_bytes;
  if (auto s = out->open_locked(); !s) return std::move(s).take_error();
  return out;
}

status rocks_db::open_locked() {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_background_jobs = 2;
  options.info_log = std::make_shared<spdlog_logger>();
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});
  for (const auto& f : families_) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions{});
  rocksdb::DB* raw = nullptr;
  handles_.clear();
  auto s = rocksdb::DB::Open(options, path_, descriptors, &handles_, &raw);
  if (!s.ok()) return to_error(s, "cannot open " + path_);
  db_.reset(raw);
  names_.clear();
  names_.push_back(rocksdb::kDefaultColumnFamilyName);
  for (const auto& f : families_) names_.push_back(f);
  return ok();
}

void rocks_db::close_locked() {
  if (!db_) return;
  for (auto* h : handles_) {
    auto s = db_->DestroyColumnFamilyHandle(h);
    (void)s;  // closing: nothing left to do with an error
  }
  handles_.clear();
  // After a failed write, Close() reports the WAL it could not finish
  // ("Seen error"); the failed record is dropped when the WAL is replayed.
  auto s = db_->Close();
  (void)s;
  db_.reset();
}

rocks_db::~rocks_db() {
  std::unique_lock lock(gate_);
  close_locked();
}

rocksdb::ColumnFamilyHandle* rocks_db::family_locked(const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return handles_[i];
  return nullptr;
}

std::uint64_t rocks_db::free_bytes() const { return free_bytes_at(path_); }

void rocks_db::check() {
  std::unique_lock state(state_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (refusing_ && now < next_check_) return;
  next_check_ = now + std::chrono::milliseconds(500);
  const auto free = free_bytes();
  if (free < min_free_bytes_) {
    if (!refusing_)
      spdlog::error(
          "{}: {} free, under the {} kept in reserve: refusing writes until there is room", path_,
          megabytes(free), megabytes(min_free_bytes_));
    refusing_ =
        make_error(errc::unavailable, "the disk is full: " + megabytes(free) + " free, " +
                                          megabytes(min_free_bytes_) + " needed; retry later");
    return;
  }
  if (!refusing_) return;
  if (failed_write_) {
    if (free < std::max(min_free_bytes_, recovery_floor)) return;
    // Reopen: wait for every user of the database to leave it.
    state.unlock();
    std::unique_lock gate(gate_);
    close_locked();
    auto s = open_locked();
    state.lock();
    if (!s) {
      // Not even open: every use of the database would fail. Try again later.
      spdlog::error("{}: reopening after a failed write failed: {}", path_, s.err().detail);
      refusing_ = s.err();
      return;
    }
    failed_write_ = false;
  }
  spdlog::info("{}: writes accepted again ({} free)", path_, megabytes(free));
  refusing_.reset();
}

status rocks_db::writable() {
  check();
  std::lock_guard state(state_mutex_);
  if (refusing_) return *refusing_;
  return ok();
}

status rocks_db::write(const rocksdb::WriteOptions& options,
                       const std::function<status(const lent&, rocksdb::WriteBatch&)>& fill) {
  check();
  {
    std::lock_guard state(state_mutex_);
    if (refusing_) return *refusing_;
  }
  rocksdb::Status s;
  {
    std::shared_lock lock(gate_);
    if (!db_) return make_error(errc::unavailable, path_ + " is not open");
    rocksdb::WriteBatch wb;
    if (auto f = fill(lent{*db_, *this}, wb); !f) return f;
    s = db_->Write(options, &wb);
  }
  if (s.ok()) return ok();
  auto e = to_error(s, "cannot write");
  if (e.code == errc::unavailable) {
    std::lock_guard state(state_mutex_);
    if (!refusing_) spdlog::error("{}: {}; refusing writes until it recovers", path_, e.detail);
    refusing_ = e;
    failed_write_ = true;
    next_check_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  }
  return e;
}

std::optional<std::string> rocks_kv::get(std::string_view key) const {
  return db_.with_db([&](const rocks_db::lent& l) -> std::optional<std::string> {
    std::string value;
    auto s = l.db.Get(rocksdb::ReadOptions{}, l.family(family_),
                      rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) throw std::runtime_error("rocksdb get: " + s.ToString());
    return value;
  });
}

status rocks_kv::add_to(const rocks_db::lent& db, rocksdb::WriteBatch& wb,
                        const ports::kv_batch& batch) const {
  auto* family = db.family(family_);
  for (const auto& k : batch.deletes)
    if (auto s = wb.Delete(family, k); !s.ok()) return to_error(s, "cannot batch a delete");
  for (const auto& [k, v] : batch.puts)
    if (auto s = wb.Put(family, k, v); !s.ok()) return to_error(s, "cannot batch a put");
  return ok();
}

status rocks_kv::write(const ports::kv_batch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return db_.write(
      wo, [&](const rocks_db::lent& l, rocksdb::WriteBatch& wb) { return add_to(l, wb, batch); });
}

void rocks_kv::scan(std::string_view prefix, std::string_view from,
                    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  db_.with_db([&](const rocks_db::lent& l) {
    std::unique_ptr<rocksdb::Iterator> it(
        l.db.NewIterator(rocksdb::ReadOptions{}, l.family(family_)));
    const std::string start = from.empty() ? std::string(prefix) : std::string(from);
    for (it->Seek(start); it->Valid(); it->Next()) {
      const auto k = it->key();
      if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      if (!visit(std::string_view(k.data(), k.size()),
                 std::string_view(it->value().data(), it->value().size())))
        break;
    }
    if (!it->status().ok()) throw std::runtime_error("rocksdb scan: " + it->status().ToString());
  });
}

void rocks_kv::scan_reverse(
    std::string_view prefix, std::string_view from,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  db_.with_db([&](const rocks_db::lent& l) {
    std::unique_ptr<rocksdb::Iterator> it(
        l.db.NewIterator(rocksdb::ReadOptions{}, l.family(family_)));
    if (!from.empty()) {
      it->SeekForPrev(rocksdb::Slice(from.data(), from.size()));
    } else {
      // Just past the prefix: the prefix with its last byte moved on.
      std::string end(prefix);
      while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
      if (end.empty()) {
        it->SeekToLast();
      } else {
        end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
        it->Seek(end);
        if (it->Valid())
          it->Prev();
        else if (it->status().ok())
          it->SeekToLast();
      }
    }
    for (; it->Valid(); it->Prev()) {
      const auto k = it->key();
      if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      if (!visit(std::string_view(k.data(), k.size()),
                 std::string_view(it->value().data(), it->value().size())))
        break;
    }
    if (!it->status().ok()) throw std::runtime_error("rocksdb scan: " + it->status().ToString());
  });
}

}  // namespace tally::infra
