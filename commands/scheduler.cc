#include "commands/scheduler.h"

#include <spdlog/spdlog.h>

namespace tally::commands {

namespace {
constexpr std::int64_t default_timeout_minutes = tenant_settings{}.shopping_timeout_minutes;
constexpr auto tick = std::chrono::milliseconds(100);
}  // namespace

std::string scheduler::activity_key(const ids::tenant& tenant, const ids::session& session) {
  return "s/" + tenant.value + "/" + session.value;
}
std::string scheduler::timeout_key(const ids::tenant& tenant) { return "t/" + tenant.value; }

scheduler::scheduler(command_bus& bus, const clock_source& clock, ports::kv_store& state)
    : bus_(bus), clock_(clock), state_(state) {}

scheduler::~scheduler() { stop(); }

void scheduler::start() {
  {
    std::lock_guard lock(mutex_);
    state_.scan("s/", "", [&](std::string_view k, std::string_view v) {
      const auto slash = k.find('/', 2);
      if (v.size() < 3) return true;
      due_rule r{v[0] == 'e' ? due_rule::kind::at : due_rule::kind::after_inactivity,
                 from_millis(std::stoll(std::string(v.substr(2))))};
      activity_[{std::string(k.substr(2, slash - 2)), std::string(k.substr(slash + 1))}] = r;
      return true;
    });
    state_.scan("t/", "", [&](std::string_view k, std::string_view v) {
      timeouts_[std::string(k.substr(2))] = std::stoll(std::string(v));
      return true;
    });
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string scheduler::encode(const due_rule& r) {
  return std::string(r.rule == due_rule::kind::at ? "e:" : "a:") +
         std::to_string(to_millis(r.time));
}

void scheduler::track(const ids::tenant& tenant, const ids::session& session,
                      std::optional<due_rule> rule) {
  std::lock_guard lock(mutex_);
  const key k{tenant.value, session.value};
  if (rule)
    activity_[k] = *rule;
  else
    activity_.erase(k);
  wake_.notify_all();
}

void scheduler::set_timeout(const ids::tenant& tenant, std::int64_t minutes) {
  std::lock_guard lock(mutex_);
  timeouts_[tenant.value] = minutes;
  wake_.notify_all();
}

std::optional<timestamp> scheduler::due(const key& k) const {
  auto a = activity_.find(k);
  if (a == activity_.end()) return std::nullopt;
  if (a->second.rule == due_rule::kind::at) return a->second.time;
  auto t = timeouts_.find(k.first);
  const auto minutes = t == timeouts_.end() ? default_timeout_minutes : t->second;
  if (minutes <= 0) return std::nullopt;
  return a->second.time + std::chrono::minutes(minutes);
}

void scheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const timestamp now = clock_.now();
    std::vector<key> fire;
    for (const auto& [k, last] : activity_) {
      if (in_flight_.contains(k)) continue;
      if (auto d = due(k); d && *d <= now) fire.push_back(k);
    }
    for (const auto& k : fire) {
      in_flight_.insert(k);
      command_request r;
      r.tenant = ids::tenant{k.first};
      r.actor = ids::user{"system"};
      r.actor_name = "Tally scheduler";
      r.actor_is_admin = true;
      r.cmd = expire_session{ids::session{k.second}};
      r.correlation_id = "timeout-" + k.second;
      lock.unlock();
      bus_.submit(std::move(r), [this, k](command_reply reply) {
        std::lock_guard l(mutex_);
        in_flight_.erase(k);
        if (reply.failure && reply.failure->code == errc::not_found) activity_.erase(k);
        if (reply.failure && reply.failure->code != errc::not_found)
          spdlog::warn("scheduler: timing out session {} failed: {}", k.second,
                       reply.failure->detail);
      });
      lock.lock();
    }
    // The clock can jump (test clock), so look again on every tick.
    wake_.wait_for(lock, tick);
  }
}

}  // namespace tally::commands
