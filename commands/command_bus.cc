#include "commands/command_bus.h"

#include "base/json.h"
#include "commands/decider.h"
#include "domain/views.h"

#include <mutex>
#include <shared_mutex>

namespace tally::commands {

std::string command_bus::render_answer(const aggregate& target,
                                       const std::optional<ids::line>& line_id, timestamp now,
                                       const tenant_settings& settings) {
  return std::visit(
      [&](const auto& s) -> std::string {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, session_state>) {
          session_view v = render(s, now, view_options{true, &settings});
          if (line_id) {
            line_answer a;
            a.line_id = *line_id;
            for (const auto& l : v.lines) {
              if (l.line_id != *line_id) continue;
              a.line = l;
              const auto* st = s.find_line(*line_id);
              (st && st->effect == stock_effect::reserved ? a.reserved : a.consumed) = l.quantity;
            }
            a.session = std::move(v);
            return json::write(a);
          }
          return json::write(v);
        } else if constexpr (std::is_same_v<T, email_index_state> ||
                             std::is_same_v<T, reservation_state>) {
          return json::write(s);
        } else {
          return json::write(render(s));
        }
      },
      target);
}

command_bus::command_bus(ports::event_log& log, ports::kv_store& state, const clock_source& clock,
                         options opts)
    : log_(log), state_(state), clock_(clock), opts_(opts) {}

command_bus::~command_bus() { stop(); }

status command_bus::start() {
  if (auto s = start_empty(); !s) return s;
  for (std::int32_t p = 0; p < log_.partition_count(); ++p)
    if (auto s = take(p); !s) return s;
  return ok();
}

status command_bus::start_empty() {
  stops_.load(state_);
  std::unique_lock lock(deciders_mutex_);
  deciders_.assign(static_cast<std::size_t>(log_.partition_count()), nullptr);
  return ok();
}

status command_bus::take(std::int32_t partition) {
  if (partition < 0 || partition >= log_.partition_count())
    return make_error(errc::internal, "no such partition");
  auto d = std::make_shared<decider>(*this, partition);
  // Reads the partition to its end before deciding anything.
  if (auto s = d->recover(); !s) return s;
  d->purge_idempotency_records();
  if (scheduler_) {
    // What was due in the partition, as the store knew it (the replay above
    // told the scheduler about the tail).
    scheduler_->load(
        [&](const std::string& t) { return log_.partition_of(ids::tenant{t}) == partition; });
  }
  d->start();
  std::shared_ptr<decider> old;
  {
    std::unique_lock lock(deciders_mutex_);
    if (deciders_.empty())
      deciders_.assign(static_cast<std::size_t>(log_.partition_count()), nullptr);
    old = std::exchange(deciders_[static_cast<std::size_t>(partition)], std::move(d));
  }
  if (old) old->abandon();
  return ok();
}

void command_bus::drop(std::int32_t partition) {
  std::shared_ptr<decider> gone;
  {
    std::unique_lock lock(deciders_mutex_);
    if (partition >= 0 && static_cast<std::size_t>(partition) < deciders_.size())
      gone = std::exchange(deciders_[static_cast<std::size_t>(partition)], nullptr);
  }
  if (!gone) return;
  // Stops at once: what is queued is refused, not appended by a writer that
  // no longer owns the partition.
  gone->abandon();
  if (scheduler_)
    scheduler_->forget(
        [&](const std::string& t) { return log_.partition_of(ids::tenant{t}) == partition; });
}

bool command_bus::owns(std::int32_t partition) const {
  std::shared_lock lock(deciders_mutex_);
  return partition >= 0 && static_cast<std::size_t>(partition) < deciders_.size() &&
         deciders_[static_cast<std::size_t>(partition)];
}

void command_bus::stop() {
  std::vector<std::shared_ptr<decider>> all;
  {
    std::shared_lock lock(deciders_mutex_);
    all = deciders_;
  }
  for (auto& d : all)
    if (d) d->stop();
}

status command_bus::writable() const {
  if (auto s = log_.writable(); !s) return s;
  return state_.writable();
}

std::int64_t command_bus::last_offset(std::int32_t partition) const {
  std::shared_lock lock(deciders_mutex_);
  if (partition < 0 || static_cast<std::size_t>(partition) >= deciders_.size() ||
      !deciders_[static_cast<std::size_t>(partition)])
    return -1;
  return deciders_[static_cast<std::size_t>(partition)]->last_offset();
}

void command_bus::write_metrics(metrics_text& out) const {
  out.histogram("tally_append_duration_seconds",
                "The durable write of one batch of events to the log (group commit).", "",
                append_seconds_);
  out.histogram("tally_append_batch_commands", "Commands decided together in one appended batch.",
                "", append_commands_);
  std::shared_lock lock(deciders_mutex_);
  for (std::size_t p = 0; p < deciders_.size(); ++p)
    if (deciders_[p])
      out.gauge("tally_decider_queue_depth",
                "Commands waiting for the decider of each partition this process decides.",
                metrics_text::label("partition", std::to_string(p)),
                static_cast<double>(deciders_[p]->depth_.load()));
}

void command_bus::submit(command_request request, callback done) {
  const auto p = log_.partition_of(request.tenant);
  std::shared_ptr<decider> d;
  {
    std::shared_lock lock(deciders_mutex_);
    if (p >= 0 && static_cast<std::size_t>(p) < deciders_.size())
      d = deciders_[static_cast<std::size_t>(p)];
  }
  if (!d) {
    done(command_reply{
        make_error(errc::unavailable, "this process does not decide that tenant's commands now"),
        {},
        {},
        {},
        false});
    return;
  }
  d->submit(std::move(request), std::move(done));
}

}  // namespace tally::commands
