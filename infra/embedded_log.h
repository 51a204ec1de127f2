#pragma once

#include "infra/ports/event_log.h"
#include "infra/rocks.h"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace tally::infra {

// The default event log: one partition in a RocksDB database under
// `<data>/log`. Events are keyed by big-endian offset in the `events` column
// family. The deciders' store is the `state` family of the same database
// (state_store()): written after each append, not with it, exactly as on
// Kafka, and derived from the log (docs/decisions/0003-embedded-log.md,
// 0007-ports-cut-along-the-log.md).
//
// Group commit: the decider hands over every command decided while the
// previous sync ran, so many commands share one fsync.
//
// Thread-safety: append from one thread (the decider); open, end and
// writable from any; each cursor from one thread.
class embedded_log final : public ports::event_log {
 public:
  static result<std::unique_ptr<embedded_log>> open(
      const std::string& dir, std::uint64_t min_free_bytes = rocks_db::default_min_free_bytes);

  [[nodiscard]] std::int32_t partition_count() const override { return 1; }
  [[nodiscard]] std::int32_t partition_of(const ids::tenant&) const override { return 0; }
  [[nodiscard]] result<std::vector<ports::position>> append(
      std::int32_t partition, const std::vector<event>& events) override;
  [[nodiscard]] result<std::unique_ptr<ports::log_cursor>> open(std::int32_t partition,
                                                                std::int64_t from) const override;
  [[nodiscard]] status writable() const override;

  // The offset the next event will have (tally rebuild's progress, tests).
  [[nodiscard]] std::int64_t end() const;

  // The write model's store: the `state` family, written with appends.
  ports::kv_store& state_store() { return *state_; }

  // Test hook: make the next appends fail as a full disk would.
  void fail_appends(bool fail) { fail_appends_ = fail; }

 private:
  class cursor;
  // Up to `max` records at or after `from`, below the end as it was: the
  // events, and the records that cannot be read as events.
  result<ports::read_batch> read(std::int64_t from, std::size_t max) const;
  // Waits until the end is past `offset` or the timeout passes.
  void wait_past(std::int64_t offset, std::chrono::milliseconds timeout) const;

  explicit embedded_log(std::unique_ptr<rocks_db> db);

  std::unique_ptr<rocks_db> db_;
  std::unique_ptr<rocks_kv> state_;
  mutable std::mutex mutex_;
  mutable std::condition_variable grew_;
  std::int64_t end_ = 0;
  bool fail_appends_ = false;
};

}  // namespace tally::infra
