#include "commands/scheduler.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace tally::commands {

namespace {
constexpr std::int64_t default_timeout_minutes = tenant_settings{}.shopping_timeout_minutes;
constexpr auto tick = std::chrono::milliseconds(100);
// A command that failed (the log was down, say) is tried again after this.
constexpr auto retry_after = std::chrono::seconds(1);
}  // namespace

std::string scheduler::activity_key(const ids::tenant& tenant, const ids::session& session) {
  return "s/" + tenant.value + "/" + session.value;
}
std::string scheduler::timeout_key(const ids::tenant& tenant) { return "t/" + tenant.value; }

scheduler::scheduler(command_bus& bus, const clock_source& clock, ports::kv_store& state)
    : scheduler([&bus](command_request r,
                       command_bus::callback done) { bus.submit(std::move(r), std::move(done)); },
                clock, state) {}

scheduler::scheduler(submit_fn submit, const clock_source& clock, ports::kv_store& state)
    : submit_(std::move(submit)), clock_(clock), state_(state) {}

scheduler::~scheduler() { stop(); }

void scheduler::start() {
  load([](const std::string&) { return true; });
  start_empty();
}

void scheduler::start_empty() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void scheduler::load(const std::function<bool(const std::string& tenant)>& which) {
  std::lock_guard lock(mutex_);
  state_.scan("t/", "", [&](std::string_view k, std::string_view v) {
    const std::string tenant(k.substr(2));
    if (which(tenant)) timeouts_[tenant] = std::stoll(std::string(v));
    return true;
  });
  state_.scan("s/", "", [&](std::string_view k, std::string_view v) {
    const auto slash = k.find('/', 2);
    if (v.size() < 3 || slash == std::string_view::npos) return true;
    key k2{std::string(k.substr(2, slash - 2)), std::string(k.substr(slash + 1))};
    if (!which(k2.first)) return true;
    due_rule r{v[0] == 'e' ? due_rule::kind::at : due_rule::kind::after_inactivity,
               from_millis(std::stoll(std::string(v.substr(2))))};
    auto [it, fresh] = entries_.try_emplace(k2);
    auto& e = it->second;
    if (!fresh) {
      index(k2, &e.rule, nullptr);
      unqueue(k2, e);
    }
    e.rule = r;
    index(k2, nullptr, &e.rule);
    enqueue(k2, e, timestamp{});
    return true;
  });
  wake_.notify_all();
}

void scheduler::forget(const std::function<bool(const std::string& tenant)>& which) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!which(it->first.first)) {
      ++it;
      continue;
    }
    index(it->first, &it->second.rule, nullptr);
    unqueue(it->first, it->second);
    it = entries_.erase(it);
  }
  for (auto it = timeouts_.begin(); it != timeouts_.end();)
    it = which(it->first) ? timeouts_.erase(it) : std::next(it);
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

std::optional<timestamp> scheduler::due(const key& k, const due_rule& r) const {
  if (r.rule == due_rule::kind::at) return r.time;
  auto t = timeouts_.find(k.first);
  const auto minutes = t == timeouts_.end() ? default_timeout_minutes : t->second;
  if (minutes <= 0) return std::nullopt;
  return r.time + std::chrono::minutes(minutes);
}

void scheduler::enqueue(const key& k, entry& e, timestamp not_before) {
  auto d = due(k, e.rule);
  if (!d) return;
  const auto at = std::max(*d, not_before);
  queue_.emplace(at, k);
  e.queued_at = at;
}

void scheduler::unqueue(const key& k, entry& e) {
  if (!e.queued_at) return;
  queue_.erase({*e.queued_at, k});
  e.queued_at.reset();
}

void scheduler::index(const key& k, const due_rule* before, const due_rule* after) {
  const bool was = before && before->rule == due_rule::kind::after_inactivity;
  const bool is = after && after->rule == due_rule::kind::after_inactivity;
  if (was == is) return;
  if (is) {
    inactivity_[k.first].insert(k.second);
  } else if (auto it = inactivity_.find(k.first); it != inactivity_.end()) {
    it->second.erase(k.second);
    if (it->second.empty()) inactivity_.erase(it);
  }
}

void scheduler::track(const ids::tenant& tenant, const ids::session& session,
                      std::optional<due_rule> rule) {
  bool earlier = false;
  {
    std::lock_guard lock(mutex_);
    const key k{tenant.value, session.value};
    auto it = entries_.find(k);
    if (!rule) {
      if (it == entries_.end()) return;
      unqueue(k, it->second);
      index(k, &it->second.rule, nullptr);
      entries_.erase(it);
      return;
    }
    const bool existed = it != entries_.end();
    if (!existed) it = entries_.emplace(k, entry{}).first;
    auto& e = it->second;
    const due_rule before = e.rule;
    unqueue(k, e);
    e.rule = *rule;
    index(k, existed ? &before : nullptr, &e.rule);
    if (e.in_flight) return;  // queued again when its answer comes
    const bool was_empty = queue_.empty();
    const timestamp front = was_empty ? timestamp{} : queue_.begin()->first;
    enqueue(k, e, timestamp{});
    earlier = e.queued_at && (was_empty || *e.queued_at < front);
  }
  if (earlier) wake_.notify_all();
}

void scheduler::set_timeout(const ids::tenant& tenant, std::int64_t minutes) {
  {
    std::lock_guard lock(mutex_);
    timeouts_[tenant.value] = minutes;
    auto it = inactivity_.find(tenant.value);
    if (it != inactivity_.end()) {
      for (const auto& session : it->second) {
        const key k{tenant.value, session};
        auto found = entries_.find(k);
        if (found == entries_.end()) continue;
        auto& e = found->second;
        if (e.in_flight) continue;
        unqueue(k, e);
        enqueue(k, e, timestamp{});
      }
    }
  }
  wake_.notify_all();
}

std::size_t scheduler::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t scheduler::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

// Called with the lock held; submits after letting it go.
void scheduler::fire(const key& k) {
  command_request r;
  r.tenant = ids::tenant{k.first};
  r.actor = ids::user{"system"};
  r.actor_name = "Tally scheduler";
  r.actor_is_admin = true;
  r.cmd = expire_session{ids::session{k.second}};
  r.correlation_id = "timeout-" + k.second;
  submit_(std::move(r), [this, k](command_reply reply) {
    std::lock_guard l(mutex_);
    auto it = entries_.find(k);
    if (it == entries_.end()) return;  // no longer due (the decider said so meanwhile)
    auto& e = it->second;
    e.in_flight = false;
    if (reply.failure && reply.failure->code == errc::not_found) {
      unqueue(k, e);
      index(k, &e.rule, nullptr);
      entries_.erase(it);
      return;
    }
    // A failure is logged when it starts, not at every retry (a tenant
    // whose commands are refused for long, say: docs/operations.md).
    if (reply.failure && !std::exchange(e.failing, true))
      spdlog::warn("scheduler: timing out session {} failed: {}; retrying", k.second,
                   reply.failure->detail);
    if (!reply.failure) e.failing = false;
    // Still tracked: it failed, or the domain found it not due (its rule
    // changed while this was in flight). Look again at its due time, but not
    // sooner than retry_after, so that a disagreement can never spin.
    if (!e.queued_at) enqueue(k, e, clock_.now() + retry_after);
  });
}

void scheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const timestamp now = clock_.now();
    while (!queue_.empty() && queue_.begin()->first <= now && !stopping_) {
      const key k = queue_.begin()->second;
      queue_.erase(queue_.begin());
      auto& e = entries_.at(k);
      e.queued_at.reset();
      e.in_flight = true;
      lock.unlock();
      fire(k);
      lock.lock();
    }
    // Until the front is due, but look again within a tick: the clock can
    // jump (test clock).
    auto wait = tick;
    if (!queue_.empty()) {
      const auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(queue_.begin()->first - now);
      wait = std::clamp(until, std::chrono::milliseconds(1), tick);
    }
    wake_.wait_for(lock, wait);
  }
}

}  // namespace tally::commands
