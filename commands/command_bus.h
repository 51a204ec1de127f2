#pragma once

#include "commands/command_port.h"
#include "commands/write_model.h"
#include "domain/clock.h"
#include "domain/commands.h"
#include "domain/decide.h"
#include "domain/error.h"
#include "infra/ports/event_log.h"

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace tally::commands {

// Runs commands: per partition of the log one decider, a thread that owns
// that partition's write model, takes every command queued since its last
// turn, decides them in order against the state that includes the ones
// before (idempotency, If-Match, decide, evolve), appends all their events in
// one durable write (group commit), then writes what it keeps beside the
// events (aggregates, idempotency records, the scheduler's index, its
// checkpoint) to its own store, and answers. Everything in that store is
// derived from the log: a decider whose store is behind (a crash between the
// append and the store write, a failed store write) replays the log after
// the store's checkpoint. If the append fails, every command of the batch
// that had events fails, the working state is dropped and the decider
// reloads from the log before its next batch, never keeping what it hoped
// it wrote.
//
// submit() is thread-safe; `done` is called on the decider's thread and must
// not block. A full queue is refused at once (errc::unavailable).
class command_bus final : public command_port {
 public:
  struct options {
    std::size_t queue_limit = 10'000;
    std::size_t batch_limit = 512;
    std::size_t cache_capacity = 100'000;
  };
  command_bus(ports::event_log& log, ports::kv_store& state, const clock_source& clock,
              options opts);
  ~command_bus() override;
  command_bus(const command_bus&) = delete;
  command_bus& operator=(const command_bus&) = delete;

  // Brings the write model up to the end of the log, then starts the
  // deciders: every partition (one process owning the whole log).
  status start();
  // Starts with no partition (a Kafka gateway): take() and drop() follow
  // the consumer group's assignment.
  status start_empty();
  // Becomes the decider of `partition`: reads it to its end, then decides
  // its commands. Blocks while it reads.
  status take(std::int32_t partition);
  // Stops deciding `partition` at once: queued commands are refused (503).
  void drop(std::int32_t partition);
  [[nodiscard]] bool owns(std::int32_t partition) const;
  [[nodiscard]] bool decides(std::int32_t partition) const override { return owns(partition); }
  // Answers everything queued, then stops the deciders; later submits are refused.
  void stop();

  void submit(command_request request, callback done) override;

  // ok while commands can be carried out: the log and the deciders' store
  // both take writes (for /readyz).
  [[nodiscard]] status writable() const override;

  // The offset of the last event the decider of `partition` has seen in the
  // log (appended or replayed); -1 before any. Thread-safe.
  [[nodiscard]] std::int64_t last_offset(std::int32_t partition) const override;

  // The durable write of each batch (seconds), the commands in it, and the
  // commands waiting for each decider.
  void write_metrics(metrics_text& out) const override;

  // The tenants whose history holds a record the deciders cannot read: their
  // write model has a hole, so their commands are refused (503) until an
  // operator repairs it (docs/operations.md); every other tenant's go on.
  [[nodiscard]] std::vector<ports::tenant_stop> stopped_tenants() const override {
    return stops_.all();
  }
  // The deciders' store key under which the stops are kept.
  static constexpr std::string_view stops_prefix = "m/stopped/";

  // Tells `s` (owned by the caller, outliving the bus) about every change to
  // what is due. Set before start().
  void set_scheduler(class scheduler* s) { scheduler_ = s; }

  // The answer to a command: the view of its target after its events, at
  // the time it was decided. Replay renders stored answers the same way.
  static std::string render_answer(const aggregate& target, const std::optional<ids::line>& line,
                                   timestamp now, const tenant_settings& settings);

 private:
  class decider;
  ports::event_log& log_;
  ports::kv_store& state_;
  const clock_source& clock_;
  options opts_;
  ports::tenant_stops stops_{std::string(stops_prefix)};
  class scheduler* scheduler_ = nullptr;
  mutable std::shared_mutex deciders_mutex_;
  std::vector<std::shared_ptr<decider>> deciders_;  // per partition; null: not decided here
  histogram append_seconds_{histogram::latency_bounds()};
  histogram append_commands_{histogram::count_bounds()};
};

}  // namespace tally::commands
