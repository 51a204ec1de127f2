// Reading the log back into the write model: recovery, the idempotency
// records a replay rebuilds, stopped tenants, what the scheduler is told.

#include "commands/decider.h"

#include "base/json.h"
#include "domain/state_codec.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tally::commands {

status command_bus::decider::recover() {
  const auto checkpoint = model_.checkpoint(partition_);
  if (checkpoint) seen(ports::position{partition_, *checkpoint});
  auto cursor = bus_.log_.open(partition_, checkpoint.value_or(-1) + 1);
  if (!cursor) return std::move(cursor).take_error();
  std::size_t applied = 0;
  for (bool waited = false;;) {
    // Waits only when the log has not said yet whether there is more.
    auto batch = (*cursor)->poll(
        1000, waited ? std::chrono::milliseconds(100) : std::chrono::milliseconds(0));
    if (!batch) return std::move(batch).take_error();
    waited = batch->empty() && !batch->at_end;
    applied += batch->events.size();
    if (auto s = replay(std::move(batch->events), std::move(batch->unreadable), batch->at_end); !s)
      return s;
    if (batch->at_end) break;
  }
  if (applied)
    spdlog::info("write model of partition {}: replayed {} events from the log", partition_,
                 applied);
  return ok();
}

void command_bus::decider::purge_idempotency_records() {
  ports::kv_batch expired;
  const auto cutoff =
      millis_of(bus_.clock_.now()) - std::chrono::milliseconds(idempotency_ttl).count();
  bus_.state_.scan("i/", "", [&](std::string_view key, std::string_view value) {
    auto rec = json::read_own<idempotency_record>(value);
    if (!rec || rec->stored_at_ms < cutoff) expired.erase(std::string(key));
    return expired.deletes.size() < 100'000;
  });
  if (expired.empty()) return;
  if (auto s = bus_.state_.write(expired); !s)
    spdlog::warn("purging idempotency records: {}", s.err().detail);
  else
    spdlog::info("forgot {} idempotency records older than 24 h", expired.deletes.size());
}

bool command_bus::decider::same_command(const event& a, const event& b) {
  return a.idempotency_key && b.idempotency_key && *a.idempotency_key == *b.idempotency_key &&
         a.actor == b.actor && a.tenant == b.tenant && a.time == b.time;
}

status command_bus::decider::replay(std::vector<ports::recorded_event> polled,
                                    std::vector<ports::unreadable_record> unreadable, bool at_end) {
  std::vector<ports::recorded_event> recorded = std::move(held_);
  held_.clear();
  recorded.insert(recorded.end(), std::make_move_iterator(polled.begin()),
                  std::make_move_iterator(polled.end()));
  std::vector<ports::unreadable_record> records_unread = std::move(held_unreadable_);
  held_unreadable_.clear();
  records_unread.insert(records_unread.end(), std::make_move_iterator(unreadable.begin()),
                        std::make_move_iterator(unreadable.end()));
  std::size_t cut = recorded.size();
  if (!at_end) {
    while (cut > 0 && recorded[cut - 1].event.idempotency_key &&
           same_command(recorded[cut - 1].event, recorded.back().event))
      --cut;
  }
  held_.assign(std::make_move_iterator(recorded.begin() + static_cast<std::ptrdiff_t>(cut)),
               std::make_move_iterator(recorded.end()));
  recorded.resize(cut);
  // Unreadable records past the held command wait with it.
  if (!held_.empty()) {
    const auto first_held = held_.front().pos;
    auto past =
        std::partition_point(records_unread.begin(), records_unread.end(),
                             [&](const ports::unreadable_record& u) { return u.pos < first_held; });
    held_unreadable_.assign(std::make_move_iterator(past),
                            std::make_move_iterator(records_unread.end()));
    records_unread.erase(past, records_unread.end());
  }
  if (recorded.empty() && records_unread.empty()) return ok();

  // A tenant with a record that cannot be read has a hole in its history:
  // its later events are not applied and its commands are refused
  // (stopped_tenants); every other tenant's are applied.
  std::vector<ports::tenant_stop> made;
  auto stop = [&](ports::tenant_stop st) {
    ports::kv_batch scratch;
    if (bus_.stops_.stop(st, scratch))
      spdlog::error(
          "the commands of tenant {} are refused from {} on: {} (docs/operations.md, "
          "\"A tenant's projection is stopped\")",
          st.tenant.empty() ? "(unknown)" : st.tenant, st.pos.token(), st.reason);
    made.push_back(std::move(st));
  };
  for (const auto& u : records_unread)
    stop({u.tenant ? u.tenant->value : "", u.pos,
          "an event that cannot be read (" + u.reason + ")"});

  for (;;) {
    std::vector<event> events;
    std::vector<record> records;
    events.reserve(recorded.size());
    std::optional<ports::tenant_stop> failed;
    for (std::size_t i = 0; i < recorded.size() && !failed; ++i) {
      const event& e = recorded[i].event;
      if (bus_.stops_.stopped_before(e.tenant, recorded[i].pos)) continue;
      try {
        auto view = model_.for_tenant(e.tenant);
        evolve(view, e);
        events.push_back(e);
        const bool last_of_command =
            i + 1 == recorded.size() || !same_command(e, recorded[i + 1].event);
        if (!e.idempotency_key || !e.request_digest || !last_of_command) continue;
        std::size_t first = events.size() - 1;
        while (first > 0 && same_command(events[first - 1], e)) --first;
        const auto subject =
            answer_subject_of(std::span<const event>(events.data() + first, events.size() - first));
        if (const aggregate* target = view.find(subject.target)) {
          records.emplace_back(
              idempotency_key(e.tenant, e.actor, *e.idempotency_key),
              idempotency_record{
                  *e.request_digest,
                  render_answer(*target, subject.line_id, e.time, view.tenant().settings),
                  recorded[i].pos.token(), version_of(target).value, millis_of(e.time)});
        }
      } catch (const std::exception& ex) {
        failed =
            ports::tenant_stop{e.tenant.value, recorded[i].pos,
                               std::string("its stored state cannot be read (") + ex.what() + ")"};
      }
    }
    if (failed) {
      // The working state holds part of that event: replayed again
      // without the tenant.
      model_.discard();
      stop(std::move(*failed));
      continue;
    }
    std::int64_t last = recorded.empty() ? -1 : recorded.back().pos.offset;
    if (!records_unread.empty()) last = std::max(last, records_unread.back().pos.offset);
    ports::kv_batch kv;
    model_.stage(kv);
    auto dues = due_changes(events, kv);
    for (const auto& [key, rec] : records) kv.put(key, json::write(rec));
    for (auto& st : made) bus_.stops_.stop(st, kv);
    kv.put(write_model::checkpoint_key(partition_), std::to_string(last));
    if (auto s = bus_.state_.write(kv); !s) {
      model_.discard();
      return s;
    }
    model_.commit();
    seen(ports::position{partition_, last});
    tell_scheduler(dues);
    return ok();
  }
}

void command_bus::decider::tell_scheduler(const std::vector<due_change>& dues) {
  if (!bus_.scheduler_) return;
  for (const auto& d : dues) {
    if (d.timeout_minutes)
      bus_.scheduler_->set_timeout(d.tenant, *d.timeout_minutes);
    else
      bus_.scheduler_->track(d.tenant, d.session, d.rule);
  }
}

std::vector<command_bus::decider::due_change> command_bus::decider::due_changes(
    const std::vector<event>& events, ports::kv_batch& kv) {
  std::vector<due_change> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& e : events) {
    if (const auto* s = std::get_if<tenant_settings_changed>(&e.data)) {
      kv.put(scheduler::timeout_key(e.tenant),
             std::to_string(s->settings.shopping_timeout_minutes));
      out.push_back({e.tenant, {}, {}, s->settings.shopping_timeout_minutes});
      continue;
    }
    const auto session = e.stream.session();
    if (!session || !seen.insert({e.tenant.value, session->value}).second) continue;
    const ids::session& id = *session;
    auto state = model_.for_tenant(e.tenant);
    const auto* ss = state.session(id);
    if (!ss || ss->kind == session_kind::metered) continue;
    std::optional<scheduler::due_rule> rule;
    if (ss->kind == session_kind::shopping && ss->status == session_status::active)
      rule = scheduler::due_rule{scheduler::due_rule::kind::after_inactivity, ss->last_activity};
    if (ss->kind == session_kind::appointment && ss->scheduled_end() &&
        (ss->status == session_status::booked || ss->status == session_status::active))
      rule = scheduler::due_rule{scheduler::due_rule::kind::at, *ss->scheduled_end()};
    if (rule)
      kv.put(scheduler::activity_key(e.tenant, id), scheduler::encode(*rule));
    else
      kv.erase(scheduler::activity_key(e.tenant, id));
    out.push_back({e.tenant, id, rule, {}});
  }
  return out;
}

}  // namespace tally::commands
