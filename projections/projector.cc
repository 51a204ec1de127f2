#include "projections/projector.h"

#include "base/json.h"
#include "domain/evolve.h"
#include "domain/pricing.h"
#include "domain/state_codec.h"
#include "domain/views.h"
#include "projections/analytics.h"
#include "projections/batch_writes.h"
#include "projections/feed.h"
#include "projections/insights.h"
#include "projections/keys.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <limits>
#include <map>
#include <set>

namespace tally::projections {

namespace {

// Every index entry a session has in its current state (keys.h): the list
// of all sessions, the active list, and one per filter of GET /v1/sessions.
template <class E>
std::string enum_name(E e) {
  return std::string(boost::describe::enum_to_string(e, ""));
}

std::set<std::string> session_index_keys(const ids::tenant& t, const session_state& s) {
  using layout::index_entry;
  const auto order = to_millis(list_time(s));
  const auto& id = s.session_id.value;
  auto name = [](auto e) { return enum_name(e); };
  std::set<std::string> keys{
      index_entry(t, "sessions", order, id),
      index_entry(t, "by_customer/" + s.customer.customer_id.value, order, id),
      index_entry(t, "by_kind/" + name(s.kind), order, id),
      index_entry(t, "by_status/" + name(s.status), order, id),
      index_entry(t, "by_payment/" + name(payment_status_of(s)), order, id),
  };
  if (s.outcome) keys.insert(index_entry(t, "by_outcome/" + name(*s.outcome), order, id));
  if (!s.host_id.empty()) keys.insert(index_entry(t, "by_host/" + s.host_id.value, order, id));
  if (s.status == session_status::active && s.started_at)
    keys.insert(index_entry(t, "active", to_millis(*s.started_at), id));
  return keys;
}

}  // namespace

projector::projector(ports::event_log& log, ports::kv_store& views)
    : log_(log),
      views_(views),
      stops_(std::string(layout::stops_prefix)),
      applied_(new std::atomic<std::int64_t>[static_cast<std::size_t>(log.partition_count())]),
      behind_(new std::atomic<std::int64_t>[static_cast<std::size_t>(log.partition_count())]),
      applied_at_(new std::atomic<std::int64_t>[static_cast<std::size_t>(log.partition_count())]) {
  stops_.load(views_);
  for (std::int32_t p = 0; p < log_.partition_count(); ++p) {
    auto v = views_.get(layout::checkpoint(p));
    std::int64_t checkpoint = -1;
    if (v) std::from_chars(v->data(), v->data() + v->size(), checkpoint);
    applied_[static_cast<std::size_t>(p)] = checkpoint;
    behind_[static_cast<std::size_t>(p)] = 0;
    applied_at_[static_cast<std::size_t>(p)] = -1;
  }
}

projector::~projector() { stop(); }

std::int64_t projector::applied(std::int32_t partition) const {
  if (partition < 0 || partition >= log_.partition_count()) return -1;
  return applied_[static_cast<std::size_t>(partition)].load();
}

std::int64_t projector::lag(std::int32_t partition) const {
  if (partition < 0 || partition >= log_.partition_count()) return 0;
  return behind_[static_cast<std::size_t>(partition)].load();
}

double projector::lag_seconds(std::int32_t partition, timestamp now) const {
  if (lag(partition) == 0) return 0;
  const auto at = applied_at_[static_cast<std::size_t>(partition)].load();
  if (at < 0) return 0;  // nothing applied since the start yet: unknown
  return std::max<double>(0, static_cast<double>(to_millis(now) - at) / 1000.0);
}

std::uint64_t projector::when_reached(const ports::position& p, std::function<void()> fn) {
  {
    std::lock_guard lock(waits_mutex_);
    // Checked under the lock that apply() takes to wake waits: no wake-up
    // can slip between the check and the registration.
    if (!reached(p)) {
      const auto id = next_wait_++;
      waits_[{p.partition, p.offset}].emplace(id, std::move(fn));
      wait_index_.emplace(id, std::make_pair(p.partition, p.offset));
      return id;
    }
  }
  fn();
  return 0;
}

void projector::forget(std::uint64_t wait) {
  std::lock_guard lock(waits_mutex_);
  auto it = wait_index_.find(wait);
  if (it == wait_index_.end()) return;
  auto w = waits_.find(it->second);
  if (w != waits_.end()) {
    w->second.erase(wait);
    if (w->second.empty()) waits_.erase(w);
  }
  wait_index_.erase(it);
}

void projector::on_applied(
    std::function<void(const std::vector<ports::recorded_event>&)> listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}
// One event into the batch's read models. Throws when a read model it
// reads cannot be read (batch_writes): apply() then stops its tenant.
void projector::apply_event(batch_writes& b, const ports::recorded_event& r) {
  const event& e = r.event;
  batch_writes::tenant_view view(b, e.tenant);
  // The event once, in log order; its stream's history names where it is.
  b.put(layout::tenant_event(e.tenant, r.pos.partition, r.pos.offset),
        cloud_event_with_position(r));
  b.put(layout::history(e.tenant, e.stream.str(), e.stream_version.value), r.pos.token());
  if (!e.hash.empty())
    b.put(layout::chain_head(e.tenant),
          fmt::format(R"({{"position":"{}","hash":"{}"}})", r.pos.token(), e.hash));
  const std::optional<ids::session> session_id = session_changed_by(e);
  std::set<std::string> keys_before;
  if (session_id) {
    if (const auto* old_state = view.session(*session_id))
      keys_before = session_index_keys(e.tenant, *old_state);
  }
  insights changes(b, view, e);
  evolve(view, e);
  changes.after_evolve();
  if (session_id) {
    std::set<std::string> keys_after;
    if (const auto* new_state = view.session(*session_id))
      keys_after = session_index_keys(e.tenant, *new_state);
    for (const auto& k : keys_before)
      if (!keys_after.contains(k)) b.erase(k);
    for (const auto& k : keys_after)
      if (!keys_before.contains(k)) b.put(k, "");
    // The active list's row holds what its page shows: written again on
    // every event of the session while it is active.
    if (const auto* s = view.session(*session_id);
        s && s->status == session_status::active && s->started_at) {
      const std::string entry = json::write(render_entry(*s));
      b.put(layout::index_entry(e.tenant, "active", to_millis(*s->started_at), s->session_id.value),
            layout::active_row{enum_name(s->kind), s->host_id.value, entry}.str());
    }
  }
  if (session_id) {
    // The pick list: a shopping session is on it while it has lines to pick.
    const ids::session& id = *session_id;
    if (const auto* s = view.session(id); s && s->kind == session_kind::shopping && s->started_at) {
      const auto key =
          layout::forward_entry(e.tenant, "picklist", to_millis(*s->started_at), id.value);
      if (render_picks(*s, true))
        b.put(key, "");
      else
        b.erase(key);
    }
  }
  if (const auto* d = std::get_if<customer_registered>(&e.data)) {
    b.put(layout::index_entry(e.tenant, "customers", to_millis(e.time), d->customer_id.value), "");
  } else if (const auto* d = std::get_if<invoice_issued>(&e.data)) {
    // Invoices and credit notes in one list, newest first by log position.
    b.put(layout::index_entry(e.tenant, "invoices", r.pos.offset, d->invoice_id.value), "");
  } else if (const auto* d = std::get_if<credit_note_issued>(&e.data)) {
    b.put(layout::index_entry(e.tenant, "invoices", r.pos.offset, d->invoice_id.value), "");
  }
}

status projector::apply(std::int32_t partition, const std::vector<ports::recorded_event>& events,
                        const std::vector<ports::unreadable_record>& unreadable) {
  // The stops this batch makes: its unreadable records, and any tenant whose
  // stored read models fail an event. A tenant's events at or after its
  // stop are not applied; every other tenant's are.
  std::vector<ports::tenant_stop> made;
  auto stop = [&](ports::tenant_stop s) {
    ports::kv_batch scratch;
    if (stops_.stop(s, scratch))
      spdlog::error(
          "projector: the read models of tenant {} are stopped at {}: {}; the other "
          "tenants' go on (docs/operations.md, \"A tenant's projection is stopped\")",
          s.tenant.empty() ? "(unknown)" : s.tenant, s.pos.token(), s.reason);
    made.push_back(std::move(s));
  };
  for (const auto& u : unreadable)
    stop({u.tenant ? u.tenant->value : "", u.pos,
          "an event that cannot be read (" + u.reason + ")"});
  for (;;) {
    batch_writes b(views_);
    std::vector<const ports::recorded_event*> applied;
    std::optional<ports::tenant_stop> failed;
    for (const auto& r : events) {
      if (stops_.stopped_before(r.event.tenant, r.pos)) continue;
      try {
        apply_event(b, r);
        applied.push_back(&r);
      } catch (const std::exception& ex) {
        failed =
            ports::tenant_stop{r.event.tenant.value, r.pos,
                               std::string("its read models cannot be read (") + ex.what() + ")"};
        break;
      }
    }
    if (failed) {
      // The batch holds part of that event: made again without the tenant.
      stop(std::move(*failed));
      continue;
    }
    const std::int64_t last = std::max(events.empty() ? -1 : events.back().pos.offset,
                                       unreadable.empty() ? -1 : unreadable.back().pos.offset);
    b.put(layout::checkpoint(partition), std::to_string(last));
    ports::kv_batch kv = b.finish();
    for (auto& s : made) stops_.stop(s, kv);
    if (auto w = views_.write(kv); !w) return w;
    wake(partition, last);
    if (applied.size() == events.size()) {
      tell(events);
    } else {
      std::vector<ports::recorded_event> some;
      some.reserve(applied.size());
      for (const auto* r : applied) some.push_back(*r);
      tell(some);
    }
    return ok();
  }
}

void projector::wake(std::int32_t partition, std::int64_t last) {
  std::vector<std::function<void()>> woken;
  {
    std::lock_guard lock(waits_mutex_);
    applied_[static_cast<std::size_t>(partition)] = last;
    auto it = waits_.lower_bound({partition, std::numeric_limits<std::int64_t>::min()});
    while (it != waits_.end() && it->first.first == partition && it->first.second <= last) {
      for (auto& [id, fn] : it->second) {
        wait_index_.erase(id);
        woken.push_back(std::move(fn));
      }
      it = waits_.erase(it);
    }
  }
  for (auto& fn : woken) fn();
}

void projector::tell(const std::vector<ports::recorded_event>& events) {
  if (events.empty()) return;
  std::lock_guard lock(listeners_mutex_);
  for (const auto& l : listeners_) l(events);
}

// Reads one poll from `cursor` and applies it; false once the cursor is at
// the end of the log.
result<bool> projector::step(std::int32_t partition, ports::log_cursor& cursor,
                             std::chrono::milliseconds wait) {
  auto batch = cursor.poll(1000, wait);
  if (!batch) return std::move(batch).take_error();
  if (!batch->empty()) {
    if (auto s = apply(partition, batch->events, batch->unreadable); !s)
      return std::move(s).take_error();
    if (!batch->events.empty())
      applied_at_[static_cast<std::size_t>(partition)] = to_millis(batch->events.back().event.time);
  }
  behind_[static_cast<std::size_t>(partition)] = batch->at_end ? 0 : batch->behind;
  return !batch->at_end;
}

status projector::catch_up(const std::function<void(std::int64_t, std::int64_t)>& progress) {
  for (std::int32_t p = 0; p < log_.partition_count(); ++p) {
    auto cursor = log_.open(p, applied(p) + 1);
    if (!cursor) return std::move(cursor).take_error();
    for (bool wait = false;;) {
      // Waits only when the log has not said yet whether there is more.
      const auto before = applied(p);
      auto more = step(p, **cursor, std::chrono::milliseconds(wait ? 100 : 0));
      if (!more) return std::move(more).take_error();
      wait = applied(p) == before;
      if (progress) progress(applied(p) + 1, applied(p) + 1 + lag(p));
      if (!*more) break;
    }
  }
  return ok();
}

void projector::start() {
  stopping_ = false;
  for (std::int32_t p = 0; p < log_.partition_count(); ++p)
    threads_.emplace_back([this, p] { run(p); });
}

void projector::stop() {
  stopping_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void projector::run(std::int32_t partition) {
  // A failure is logged when it starts and when it ends, not on every retry.
  auto failed = [&](const std::string& why) {
    if (!failing_.exchange(true)) spdlog::error("projector: {}; retrying", why);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  };
  std::unique_ptr<ports::log_cursor> cursor;
  while (!stopping_) {
    try {
      if (!cursor) {
        // (Re)opened after the last event applied: a failed batch is read again.
        auto c = log_.open(partition, applied(partition) + 1);
        if (!c) {
          failed(c.err().detail);
          continue;
        }
        cursor = std::move(*c);
      }
      auto more = step(partition, *cursor, std::chrono::milliseconds(100));
      if (!more) {
        cursor.reset();
        failed(more.err().detail);
        continue;
      }
      if (failing_.exchange(false)) spdlog::info("projector: read models written again");
    } catch (const std::exception& ex) {
      cursor.reset();
      failed(ex.what());
    }
  }
}

}  // namespace tally::projections
