#include "infra/rocks.h"

#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

namespace tally::infra {

std::string describe(const rocksdb::Status& s) { return s.ToString(); }

error to_error(const rocksdb::Status& s, std::string_view what) {
  return make_error(
      s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() ? errc::unavailable : errc::internal,
      std::string(what) + ": " + s.ToString());
}

result<std::unique_ptr<rocks_db>> rocks_db::open(const std::string& path,
                                                 const std::vector<std::string>& families) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_background_jobs = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});
  for (const auto& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions{});
  std::unique_ptr<rocks_db> out(new rocks_db());
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, path, descriptors, &out->handles_, &raw);
  if (!s.ok()) return to_error(s, "cannot open " + path);
  out->db_.reset(raw);
  out->names_.push_back(rocksdb::kDefaultColumnFamilyName);
  for (const auto& f : families) out->names_.push_back(f);
  return out;
}

rocks_db::~rocks_db() {
  for (auto* h : handles_) {
    auto s = db_->DestroyColumnFamilyHandle(h);
    (void)s;  // closing: nothing left to do with an error
  }
  if (db_) {
    auto s = db_->Close();
    (void)s;
  }
}

rocksdb::ColumnFamilyHandle* rocks_db::family(const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return handles_[i];
  return nullptr;
}

std::optional<std::string> rocks_kv::get(std::string_view key) const {
  std::string value;
  auto s =
      db_.db().Get(rocksdb::ReadOptions{}, family_, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) throw std::runtime_error("rocksdb get: " + s.ToString());
  return value;
}

void rocks_kv::add_to(rocksdb::WriteBatch& wb, const ports::kv_batch& batch) const {
  for (const auto& k : batch.deletes) {
    auto s = wb.Delete(family_, k);
    (void)s;  // WriteBatch::Delete only fails on oversized batches; Write reports it
  }
  for (const auto& [k, v] : batch.puts) {
    auto s = wb.Put(family_, k, v);
    (void)s;
  }
}

status rocks_kv::write(const ports::kv_batch& batch) {
  rocksdb::WriteBatch wb;
  add_to(wb, batch);
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  auto s = db_.db().Write(wo, &wb);
  if (!s.ok()) return to_error(s, "write");
  return ok();
}

void rocks_kv::scan(std::string_view prefix, std::string_view from,
                    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_.db().NewIterator(rocksdb::ReadOptions{}, family_));
  const std::string start = from.empty() ? std::string(prefix) : std::string(from);
  for (it->Seek(start); it->Valid(); it->Next()) {
    const auto k = it->key();
    if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
    if (!visit(std::string_view(k.data(), k.size()),
               std::string_view(it->value().data(), it->value().size())))
      break;
  }
  if (!it->status().ok()) throw std::runtime_error("rocksdb scan: " + it->status().ToString());
}

}  // namespace tally::infra
