#pragma once

// A decider: the thread that owns one partition's write model (command_bus.h
// says what it does). Private to commands/: decider.cc runs the batches,
// decider_replay.cc reads the log back into the write model.

#include "commands/command_bus.h"
#include "commands/idempotency.h"
#include "commands/scheduler.h"
#include "commands/write_model.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tally::commands {

class command_bus::decider {
 public:
  decider(command_bus& bus, std::int32_t partition)
      : bus_(bus), partition_(partition), model_(bus.state_, bus.opts_.cache_capacity) {}

  // Brings the store up to the end of the log: replays what came after its
  // checkpoint (a crash between an append and its store write, a store
  // write that failed, a store that starts empty).
  status recover();

  void start();

  // Forgets idempotency records older than the 24 h they are kept for, so
  // the store does not grow with every key ever sent.
  void purge_idempotency_records();

  void stop();

  // Stops without deciding what is queued: each queued command is refused
  // (its partition has another owner now). The batch in flight finishes.
  void abandon();

  void submit(command_request r, callback done);

 private:
  struct pending {
    command_request request;
    callback done;
  };
  struct outcome {
    command_reply reply;
    std::size_t first_event = 0;
    std::size_t event_count = 0;
    std::optional<std::string> record_key;
  };
  using record = std::pair<std::string, idempotency_record>;

  void run();

  // After a failure: let the log finish what the failure left open (a
  // commit to retry), forget everything in memory and read the log after
  // the store's checkpoint. While that fails, the batch is refused.
  bool reload(std::vector<pending>& batch);

  void process(std::vector<pending>& batch);

  // The events are in the log: the write model takes them, and the store
  // gets every change with the checkpoint (one atomic write). A store write
  // that fails loses nothing: the next batch reloads from the log.
  void persist(const std::vector<event>& events, const std::vector<ports::position>& positions,
               const std::vector<record>& records);

  void store_failed(const error& e);

  // The events of one command sent with an Idempotency-Key all carry it:
  // consecutive events of one caller with the same key and time.
  static bool same_command(const event& a, const event& b);

  // Events read from the log (recovery): the write model takes them, and
  // every command sent with an Idempotency-Key gets its record back, its
  // answer rendered as it was given (after all of the command's events). A
  // command whose events may go on in the next poll is held back until
  // they are all read, so that the store's checkpoint never falls inside
  // a command.
  status replay(std::vector<ports::recorded_event> polled,
                std::vector<ports::unreadable_record> unreadable, bool at_end);

  struct due_change;
  void tell_scheduler(const std::vector<due_change>& dues);

  struct due_change {
    ids::tenant tenant;
    ids::session session;
    std::optional<scheduler::due_rule> rule;      // nullopt: no longer due
    std::optional<std::int64_t> timeout_minutes;  // set: the tenant's timeout changed
  };

  // What the events change in the scheduler's index (kept in the store with
  // the write model, so a restart knows what is due).
  std::vector<due_change> due_changes(const std::vector<event>& events, ports::kv_batch& kv);

  // The position of the last event this decider has seen in its partition
  // (in its store's checkpoint, replayed, or appended); {p, -1} before any.
  [[nodiscard]] ports::position last_position() const;

 public:
  [[nodiscard]] std::int64_t last_offset() const { return last_offset_.load(); }

 private:
  void seen(const ports::position& p);

  void decide_one(const command_request& req, outcome& out, std::vector<event>& events,
                  std::set<std::string>& keys_in_batch, timestamp now);
  // The answer remembered under `key` (the store's key), if it is still
  // kept: true once `out` holds it, or the refusal of another request's
  // reuse of the key (422).
  bool answer_again(const std::string& key, const std::string& digest, outcome& out, timestamp now);
  // `cmd` decided against the working state: its events made, checked and
  // evolved into it, the answer in `out`. `key` is the Idempotency-Key its
  // events carry.
  void decide_command(const command_request& req, const command& cmd,
                      const std::optional<std::string>& key, outcome& out,
                      std::vector<event>& events, timestamp now);

  command_bus& bus_;
  std::int32_t partition_;
  write_model model_;
  std::optional<ports::position> last_;
  std::atomic<std::int64_t> last_offset_{-1};
  std::vector<ports::recorded_event> held_;                // replay: a command not yet read whole
  std::vector<ports::unreadable_record> held_unreadable_;  // and the records after it
  std::uint64_t batches_ = 0;
  bool append_failing_ = false;
  bool reload_needed_ = false;
  bool reload_failing_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<pending> queue_;
  bool stopping_ = false;

 public:
  std::atomic<std::size_t> depth_{0};  // queue_.size(), for /metrics
};

}  // namespace tally::commands
