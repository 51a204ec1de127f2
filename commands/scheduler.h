#pragma once

#include "commands/command_bus.h"
#include "domain/clock.h"
#include "infra/ports/kv_store.h"

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tally::commands {

// Issues commands when their time comes, reading the one clock (so the test
// clock drives it). A shopping session with no activity for the tenant's
// `shopping_timeout_minutes` is ended as timed out; an appointment is
// completed at its scheduled end.
//
// What is due is derived from the write model: the deciders tell the
// scheduler about every change (track/set_timeout), and start() rebuilds it
// from the store's index after a restart, so a deadline that passed while
// the server was down fires once it is up. Firing twice is harmless: the
// domain's expire_session does nothing unless the session is still due.
//
// Cost: a queue ordered by due time. track() is O(log n) and wakes the thread
// only when the earliest due time moved earlier; a turn of the thread looks
// at the front of the queue only. A tenant's timeout change re-queues that
// tenant's shopping sessions (O(k log n), k of them). The thread also looks
// every `tick` (100 ms) because the test clock can jump.
//
// Owns one thread. track/set_timeout are thread-safe.
class scheduler {
 public:
  using submit_fn = std::function<void(command_request, command_bus::callback)>;

  scheduler(command_bus& bus, const clock_source& clock, ports::kv_store& state);
  // For tests: commands go to `submit` instead of a bus.
  scheduler(submit_fn submit, const clock_source& clock, ports::kv_store& state);
  ~scheduler();

  // Loads everything due from the store, then runs (one process owning
  // every partition).
  void start();
  // Runs with nothing loaded (a Kafka gateway): load() what a partition
  // brings when it is taken, forget() it when it is given up.
  void start_empty();
  void stop();
  void load(const std::function<bool(const std::string& tenant)>& which);
  void forget(const std::function<bool(const std::string& tenant)>& which);

  // What makes a session due: a shopping session's last activity (due after
  // the tenant's timeout), or an appointment's scheduled end (due then).
  struct due_rule {
    enum class kind { after_inactivity, at } rule = kind::after_inactivity;
    timestamp time;
  };
  // nullopt: nothing is due for the session any more.
  void track(const ids::tenant& tenant, const ids::session& session, std::optional<due_rule> rule);
  static std::string encode(const due_rule& r);
  void set_timeout(const ids::tenant& tenant, std::int64_t minutes);

  // Sessions tracked, and of them waiting in the queue (not being fired).
  [[nodiscard]] std::size_t tracked() const;
  [[nodiscard]] std::size_t queued() const;

  // Keys of the index the deciders keep beside the write model.
  static std::string activity_key(const ids::tenant& tenant, const ids::session& session);
  static std::string timeout_key(const ids::tenant& tenant);

 private:
  using key = std::pair<std::string, std::string>;  // tenant, session
  struct entry {
    due_rule rule;
    std::optional<timestamp> queued_at;  // its place in queue_, if queued
    bool in_flight = false;              // fired, the answer not back yet
    bool failing = false;                // its last try failed (logged once)
  };
  void run();
  [[nodiscard]] std::optional<timestamp> due(const key& k, const due_rule& r) const;
  void enqueue(const key& k, entry& e, timestamp not_before);
  void unqueue(const key& k, entry& e);
  void index(const key& k, const due_rule* before, const due_rule* after);
  void fire(const key& k);

  submit_fn submit_;
  const clock_source& clock_;
  ports::kv_store& state_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<key, entry> entries_;
  std::set<std::pair<timestamp, key>> queue_;
  // Per tenant, its sessions due after inactivity: what a timeout change moves.
  std::map<std::string, std::set<std::string>> inactivity_;
  std::map<std::string, std::int64_t> timeouts_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tally::commands
