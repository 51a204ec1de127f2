#pragma once

#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"
#include "infra/ports/tenant_stops.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tally::projections {

class batch_writes;

// Reads the log in order and keeps the read models (projections/keys.h) in a
// kv_store. Each batch of events is applied in one atomic write together
// with its checkpoint, so that whatever crashes, every event takes effect
// exactly once. Everything it writes is derived from the events alone: a
// rebuild from the log gives the same keys and values.
//
// Owns one thread per partition (start/stop); catch_up() runs on the caller's
// thread instead (tally rebuild). applied() is thread-safe.
class projector {
 public:
  projector(ports::event_log& log, ports::kv_store& views);
  ~projector();

  void start();
  void stop();

  // Applies everything up to the current end of the log, reporting progress.
  status catch_up(const std::function<void(std::int64_t done, std::int64_t total)>& progress = {});

  // The last offset applied in `partition` (-1: none).
  [[nodiscard]] std::int64_t applied(std::int32_t partition) const;
  [[nodiscard]] bool reached(const ports::position& p) const {
    return applied(p.partition) >= p.offset;
  }
  // How far the log's end is past what was applied in `partition`, in
  // offsets, as the last poll saw it; 0 once the projector has read all
  // there was (a trailing transaction marker does not count).
  [[nodiscard]] std::int64_t lag(std::int32_t partition) const;
  // The same in time: how much older than `now` the last event applied in
  // `partition` is, while the projector is behind; 0 when caught up.
  [[nodiscard]] double lag_seconds(std::int32_t partition, timestamp now) const;

  // False while the read models cannot be written (a full disk): the
  // projector retries, and /readyz says it is not ready.
  [[nodiscard]] bool healthy() const { return !failing_.load(); }

  // Calls `fn` once the read models include `p`: at once (on the caller's
  // thread) if they do, else on the projector's thread after the batch that
  // reaches it. The answer identifies the wait for forget(); 0 if it ran
  // at once.
  std::uint64_t when_reached(const ports::position& p, std::function<void()> fn);
  // Drops a wait that is no longer wanted (its caller timed out).
  void forget(std::uint64_t wait);

  // Called after each applied batch (on the projector's thread), with the
  // events applied (not those of a stopped tenant).
  void on_applied(std::function<void(const std::vector<ports::recorded_event>&)> listener);

  // The tenants whose read models are stopped (an unreadable event of
  // theirs, or read models of theirs that cannot be read), where and why:
  // their reads are refused, every other tenant's go on.
  [[nodiscard]] const ports::tenant_stops& stops() const { return stops_; }

 private:
  status apply(std::int32_t partition, const std::vector<ports::recorded_event>& events,
               const std::vector<ports::unreadable_record>& unreadable);
  void apply_event(batch_writes& b, const ports::recorded_event& r);
  void wake(std::int32_t partition, std::int64_t last);
  void tell(const std::vector<ports::recorded_event>& events);
  result<bool> step(std::int32_t partition, ports::log_cursor& cursor,
                    std::chrono::milliseconds wait);
  void run(std::int32_t partition);

  ports::event_log& log_;
  ports::kv_store& views_;
  ports::tenant_stops stops_;
  std::unique_ptr<std::atomic<std::int64_t>[]> applied_;
  std::unique_ptr<std::atomic<std::int64_t>[]> behind_;
  std::unique_ptr<std::atomic<std::int64_t>[]> applied_at_;  // ms, of its last event; -1
  std::atomic<bool> failing_{false};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex waits_mutex_;
  std::uint64_t next_wait_ = 1;
  // Per partition, by offset: the waits for it.
  std::map<std::pair<std::int32_t, std::int64_t>, std::map<std::uint64_t, std::function<void()>>>
      waits_;
  std::map<std::uint64_t, std::pair<std::int32_t, std::int64_t>> wait_index_;
  std::mutex listeners_mutex_;
  std::vector<std::function<void(const std::vector<ports::recorded_event>&)>> listeners_;
};

}  // namespace tally::projections
