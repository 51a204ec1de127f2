#include "infra/embedded_log.h"

#include "domain/event_codec.h"

#include <rocksdb/write_batch.h>

namespace tally::infra {

namespace {

std::string offset_key(std::int64_t offset) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<std::size_t>(i)] = static_cast<char>(offset & 0xff);
    offset >>= 8;
  }
  return key;
}

std::int64_t key_offset(const rocksdb::Slice& key) {
  std::int64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < key.size(); ++i)
    v = (v << 8) | static_cast<unsigned char>(key[i]);
  return v;
}

}  // namespace

result<std::unique_ptr<embedded_log>> embedded_log::open(const std::string& dir,
                                                         std::uint64_t min_free_bytes) {
  auto db = rocks_db::open(dir, {"events", "state"}, min_free_bytes);
  if (!db) return std::move(db).take_error();
  std::unique_ptr<embedded_log> log(new embedded_log(std::move(*db)));
  auto s = log->db_->with_db([&](const rocks_db::lent& l) -> status {
    std::unique_ptr<rocksdb::Iterator> it(
        l.db.NewIterator(rocksdb::ReadOptions{}, l.family("events")));
    it->SeekToLast();
    if (it->Valid()) log->end_ = key_offset(it->key()) + 1;
    if (!it->status().ok()) return to_error(it->status(), "cannot read the log");
    return ok();
  });
  if (!s) return std::move(s).take_error();
  return log;
}

embedded_log::embedded_log(std::unique_ptr<rocks_db> db)
    : db_(std::move(db)), state_(std::make_unique<rocks_kv>(*db_, "state")) {}

// A cursor is an offset and the log: the embedded log has no markers, but
// readers are written as if it had.
class embedded_log::cursor final : public ports::log_cursor {
 public:
  cursor(const embedded_log& log, std::int64_t from)
      : log_(log), next_(std::max<std::int64_t>(from, 0)) {}
  result<ports::read_batch> poll(std::size_t max, std::chrono::milliseconds timeout) override {
    auto read = log_.read(next_, max);
    if (!read) return std::move(read).take_error();
    if (read->empty() && timeout.count() > 0) {
      log_.wait_past(next_, timeout);
      read = log_.read(next_, max);
      if (!read) return std::move(read).take_error();
    }
    ports::read_batch out = std::move(*read);
    if (!out.empty()) next_ = out.last_offset() + 1;
    out.next = next_;
    out.behind = std::max<std::int64_t>(log_.end() - next_, 0);
    out.at_end = out.behind == 0;
    return out;
  }

 private:
  const embedded_log& log_;
  std::int64_t next_;
};

result<std::vector<ports::position>> embedded_log::append(std::int32_t partition,
                                                          const std::vector<event>& events) {
  if (partition != 0) return make_error(errc::internal, "the embedded log has one partition");
  if (fail_appends_) return make_error(errc::unavailable, "the log refuses writes (test hook)");
  std::int64_t next;
  {
    std::lock_guard lock(mutex_);
    next = end_;
  }
  std::vector<ports::position> positions;
  positions.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i)
    positions.push_back(ports::position{0, next + static_cast<std::int64_t>(i)});
  rocksdb::WriteOptions wo;
  wo.sync = true;  // durable when answered (API.md)
  auto s = db_->write(wo, [&](const rocks_db::lent& l, rocksdb::WriteBatch& wb) -> status {
    auto* family = l.family("events");
    for (std::size_t i = 0; i < events.size(); ++i)
      if (auto put = wb.Put(family, offset_key(positions[i].offset), encode_cloud_event(events[i]));
          !put.ok())
        return to_error(put, "cannot batch the append");
    return ok();
  });
  if (!s) return std::move(s).take_error();
  {
    std::lock_guard lock(mutex_);
    end_ = next + static_cast<std::int64_t>(events.size());
  }
  grew_.notify_all();
  return positions;
}

result<std::unique_ptr<ports::log_cursor>> embedded_log::open(std::int32_t partition,
                                                              std::int64_t from) const {
  if (partition != 0) return make_error(errc::internal, "the embedded log has one partition");
  return std::unique_ptr<ports::log_cursor>(std::make_unique<cursor>(*this, from));
}

result<ports::read_batch> embedded_log::read(std::int64_t from, std::size_t max) const {
  ports::read_batch out;
  std::int64_t limit;
  {
    std::lock_guard lock(mutex_);
    limit = end_;
  }
  auto s = db_->with_db([&](const rocks_db::lent& l) -> status {
    std::unique_ptr<rocksdb::Iterator> it(
        l.db.NewIterator(rocksdb::ReadOptions{}, l.family("events")));
    for (it->Seek(offset_key(std::max<std::int64_t>(from, 0)));
         it->Valid() && out.events.size() + out.unreadable.size() < max; it->Next()) {
      const std::int64_t offset = key_offset(it->key());
      if (offset >= limit) break;
      std::string text = it->value().ToString();
      std::string why;
      auto e = decode_cloud_event(text, &why);
      if (!e) {
        out.unreadable.push_back({ports::position{0, offset}, tenant_named_in(text), why});
        continue;
      }
      out.events.push_back(
          ports::recorded_event{ports::position{0, offset}, std::move(*e), std::move(text)});
    }
    if (!it->status().ok()) return to_error(it->status(), "cannot read the log");
    return ok();
  });
  if (!s) return std::move(s).take_error();
  return out;
}

status embedded_log::writable() const { return db_->writable(); }

std::int64_t embedded_log::end() const {
  std::lock_guard lock(mutex_);
  return end_;
}

void embedded_log::wait_past(std::int64_t offset, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  grew_.wait_for(lock, timeout, [&] { return end_ > offset; });
}

}  // namespace tally::infra
