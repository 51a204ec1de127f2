#pragma once

#include "commands/command_bus.h"
#include "domain/clock.h"
#include "infra/ports/kv_store.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace tally::commands {

// Issues commands when their time comes, reading the one clock (so the test
// clock drives it). First use: a shopping session with no activity for the
// tenant's `shopping_timeout_minutes` is ended as timed out.
//
// What is due is derived from the write model: the deciders tell the
// scheduler about every change (track/set_timeout), and start() rebuilds it
// from the store's index after a restart, so a deadline that passed while
// the server was down fires once it is up. Firing twice is harmless: the
// domain's expire_session does nothing unless the session is still due.
//
// Owns one thread. track/set_timeout are thread-safe.
class scheduler {
 public:
  scheduler(command_bus& bus, const clock_source& clock, ports::kv_store& state);
  ~scheduler();

  void start();
  void stop();

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

  // Keys of the index the deciders keep beside the write model.
  static std::string activity_key(const ids::tenant& tenant, const ids::session& session);
  static std::string timeout_key(const ids::tenant& tenant);

 private:
  using key = std::pair<std::string, std::string>;  // tenant, session
  void run();
  std::optional<timestamp> due(const key& k) const;

  command_bus& bus_;
  const clock_source& clock_;
  ports::kv_store& state_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<key, due_rule> activity_;
  std::map<std::string, std::int64_t> timeouts_;
  std::set<key> in_flight_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tally::commands
