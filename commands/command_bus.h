#pragma once

#include "commands/write_model.h"
#include "domain/clock.h"
#include "domain/commands.h"
#include "domain/decide.h"
#include "domain/error.h"
#include "infra/ports/event_log.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tally::commands {

struct command_request {
  ids::tenant tenant;
  ids::user actor;
  std::optional<std::string> actor_name;
  bool actor_is_admin = false;
  command cmd;
  std::optional<std::string> idempotency_key;
  // Method, path and body: what makes a retry with the same key "the same".
  std::string fingerprint;
  std::optional<std::int64_t> if_match;
  std::string correlation_id;
};

struct command_reply {
  std::optional<error> failure;
  std::string body;  // the JSON answer, on success
  std::optional<ports::position> position;
  tally::version version;  // of the aggregate the command is about: the ETag
  bool replayed = false;   // an idempotent retry answered from its record
};

// Runs commands: per partition of the log one decider, a thread that owns
// that partition's write model, takes every command queued since its last
// turn, decides them in order against the state that includes the ones
// before (idempotency, If-Match, decide, evolve), appends all their events in
// one durable write (group commit), and only then answers. If the append
// fails, every command of the batch that had events fails and the working
// state is dropped, so the next batch decides against what is in the log.
//
// submit() is thread-safe; `done` is called on the decider's thread and must
// not block. A full queue is refused at once (errc::unavailable).
class command_bus {
 public:
  struct options {
    std::size_t queue_limit = 10'000;
    std::size_t batch_limit = 512;
    std::size_t cache_capacity = 100'000;
  };
  using callback = std::function<void(command_reply)>;

  command_bus(ports::event_log& log, ports::kv_store& state, const clock_source& clock,
              options opts);
  ~command_bus();
  command_bus(const command_bus&) = delete;
  command_bus& operator=(const command_bus&) = delete;

  // Brings the write model up to the end of the log, then starts the deciders.
  status start();
  // Answers everything queued, then stops the deciders; later submits are refused.
  void stop();

  void submit(command_request request, callback done);

  // Tells `s` (owned by the caller, outliving the bus) about every change to
  // what is due. Set before start().
  void set_scheduler(class scheduler* s) { scheduler_ = s; }

  // Time travel and other readers that fold events themselves use the same
  // rendering as the answers to commands.
  static std::string render_answer(const aggregate& target, const decision& d, timestamp now);

 private:
  class decider;
  ports::event_log& log_;
  ports::kv_store& state_;
  const clock_source& clock_;
  options opts_;
  class scheduler* scheduler_ = nullptr;
  std::vector<std::unique_ptr<decider>> deciders_;
};

}  // namespace tally::commands
