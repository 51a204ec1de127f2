#include "commands/command_bus.h"

#include "domain/chain.h"

#include "base/json.h"
#include "base/uuid.h"
#include "commands/scheduler.h"
#include "domain/state_codec.h"
#include "domain/views.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

namespace tally::commands {

namespace {

constexpr std::chrono::hours idempotency_ttl{24};

struct idempotency_record {
  std::string request_digest;
  std::string body;
  std::string position;
  std::int64_t version = 0;
  std::int64_t stored_at_ms = 0;
};
BOOST_DESCRIBE_STRUCT(idempotency_record, (),
                      (request_digest, body, position, version, stored_at_ms))

// Keys are the caller's (API.md): tenant and token `sub`, so that two callers
// never see each other's answers. The sub is length-prefixed because both it
// and the key may hold any character.
std::string idempotency_key(const ids::tenant& t, const ids::user& caller, const std::string& key) {
  return fmt::format("i/{}/{}:{}/{}", t.value, caller.value.size(), caller.value, key);
}

}  // namespace

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

namespace {

std::int64_t millis_of(timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

class command_bus::decider {
 public:
  decider(command_bus& bus, std::int32_t partition)
      : bus_(bus), partition_(partition), model_(bus.state_, bus.opts_.cache_capacity) {}

  // Brings the store up to the end of the log: replays what came after its
  // checkpoint (a crash between an append and its store write, a store
  // write that failed, a store that starts empty).
  status recover() {
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
      if (auto s = replay(std::move(batch->events), std::move(batch->unreadable), batch->at_end);
          !s)
        return s;
      if (batch->at_end) break;
    }
    if (applied)
      spdlog::info("write model of partition {}: replayed {} events from the log", partition_,
                   applied);
    return ok();
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // Forgets idempotency records older than the 24 h they are kept for, so
  // the store does not grow with every key ever sent.
  void purge_idempotency_records() {
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

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // Stops without deciding what is queued: each queued command is refused
  // (its partition has another owner now). The batch in flight finishes.
  void abandon() {
    std::deque<pending> refused;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      refused.swap(queue_);
      depth_ = 0;
    }
    wake_.notify_all();
    for (auto& p : refused)
      p.done(command_reply{
          make_error(errc::unavailable, "the partition moved to another process; retry"),
          {},
          {},
          {},
          false});
    if (thread_.joinable()) thread_.join();
  }

  void submit(command_request r, callback done) {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ && queue_.size() < bus_.opts_.queue_limit) {
        queue_.push_back({std::move(r), std::move(done)});
        depth_ = queue_.size();
        wake_.notify_one();
        return;
      }
    }
    done(command_reply{make_error(errc::unavailable, "the server is busy or stopping; retry later"),
                       {},
                       {},
                       {},
                       false});
  }

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

  void run() {
    for (;;) {
      std::vector<pending> batch;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything answered
        while (!queue_.empty() && batch.size() < bus_.opts_.batch_limit) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        depth_ = queue_.size();
      }
      if (reload_needed_ && !reload(batch)) continue;
      process(batch);
      if (++batches_ % 10'000 == 0) purge_idempotency_records();
    }
  }

  // After a failure: let the log finish what the failure left open (a
  // commit to retry), forget everything in memory and read the log after
  // the store's checkpoint. While that fails, the batch is refused.
  bool reload(std::vector<pending>& batch) {
    model_.clear();
    held_.clear();
    held_unreadable_.clear();
    auto s = bus_.log_.settle(partition_);
    if (s) s = recover();
    if (!s) {
      if (!reload_failing_)
        spdlog::error("the write model of partition {} cannot be reloaded yet: {}", partition_,
                      s.err().detail);
      reload_failing_ = true;
      for (auto& p : batch) {
        p.done(command_reply{make_error(errc::unavailable, "the log is recovering (" +
                                                               s.err().detail + "); retry later"),
                             {},
                             {},
                             {},
                             false});
      }
      return false;
    }
    if (reload_failing_) spdlog::info("the write model of partition {} is reloaded", partition_);
    reload_failing_ = false;
    reload_needed_ = false;
    return true;
  }

  void process(std::vector<pending>& batch) {
    std::vector<event> events;
    std::vector<outcome> outcomes(batch.size());
    std::set<std::string> keys_in_batch;
    const timestamp now = bus_.clock_.now();

    // A store that cannot be read: that command fails, the batch goes on.
    // What it changed of the working state before it threw is dropped with
    // the rest, and the others are decided again without it: no command is
    // ever half-written.
    std::set<std::size_t> failed;
    for (bool again = true; again;) {
      again = false;
      for (std::size_t i = 0; i < batch.size() && !again; ++i) {
        if (failed.contains(i)) continue;
        try {
          decide_one(batch[i].request, outcomes[i], events, keys_in_batch, now);
        } catch (const std::exception& ex) {
          spdlog::error("deciding a command failed: {}", ex.what());
          failed.insert(i);
          model_.discard();
          events.clear();
          keys_in_batch.clear();
          outcomes.assign(batch.size(), outcome{});
          for (auto f : failed)
            outcomes[f].reply.failure =
                make_error(errc::internal, "the command could not be decided");
          again = true;
        }
      }
    }

    std::vector<ports::position> positions;
    std::vector<record> records;
    if (!events.empty()) {
      // A store that cannot take what the append implies (a full disk) is
      // checked first: better refused than in the log and not remembered.
      auto r = [&]() -> result<std::vector<ports::position>> {
        if (auto w = bus_.state_.writable(); !w) return std::move(w).take_error();
        const auto began = std::chrono::steady_clock::now();
        auto appended = bus_.log_.append(partition_, events);
        bus_.append_seconds_.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        bus_.append_commands_.observe(static_cast<double>(batch.size()));
        return appended;
      }();
      if (r) {
        if (append_failing_) spdlog::info("appends succeed again");
        append_failing_ = false;
        positions = std::move(*r);
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
          const auto& o = outcomes[i];
          if (!o.record_key || o.reply.failure) continue;
          const auto p =
              o.event_count ? positions[o.first_event + o.event_count - 1] : last_position();
          records.emplace_back(
              *o.record_key, idempotency_record{batch[i].request.request_digest, o.reply.body,
                                                p.token(), o.reply.version.value, millis_of(now)});
        }
        persist(events, positions, records);
      } else {
        model_.discard();
        reload_needed_ = true;
        // Once per failure spell, not per batch: a full disk refuses every one.
        if (!append_failing_)
          spdlog::error("append failed, {} commands refused: {}", batch.size(), r.err().detail);
        append_failing_ = true;
        for (auto& o : outcomes) {
          if (!o.reply.failure && o.event_count) o.reply.failure = r.err();
        }
      }
    } else {
      // Only reads happened, or commands that changed nothing: their
      // records are kept (they are not in the log; a retry after a restart
      // that lost them decides again, which changes nothing either).
      model_.discard();
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const auto& o = outcomes[i];
        if (!o.record_key || o.reply.failure) continue;
        records.emplace_back(
            *o.record_key,
            idempotency_record{batch[i].request.request_digest, o.reply.body,
                               last_position().token(), o.reply.version.value, millis_of(now)});
      }
      if (!records.empty()) {
        ports::kv_batch kv;
        for (const auto& [key, rec] : records) kv.put(key, json::write(rec));
        if (auto s = bus_.state_.write(kv); !s) store_failed(s.err());
      }
    }

    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& o = outcomes[i];
      if (!o.reply.failure && !o.reply.replayed) {
        o.reply.position =
            o.event_count ? positions[o.first_event + o.event_count - 1] : last_position();
      }
      batch[i].done(std::move(o.reply));
    }
  }

  // The events are in the log: the write model takes them, and the store
  // gets every change with the checkpoint (one atomic write). A store write
  // that fails loses nothing: the next batch reloads from the log.
  void persist(const std::vector<event>& events, const std::vector<ports::position>& positions,
               const std::vector<record>& records) {
    ports::kv_batch kv;
    model_.stage(kv);
    auto dues = due_changes(events, kv);
    for (const auto& [key, rec] : records) kv.put(key, json::write(rec));
    kv.put(write_model::checkpoint_key(partition_), std::to_string(positions.back().offset));
    model_.commit();
    seen(positions.back());
    if (auto s = bus_.state_.write(kv); !s) store_failed(s.err());
    tell_scheduler(dues);
  }

  void store_failed(const error& e) {
    spdlog::error(
        "the write model's store of partition {} could not be written ({}); it will "
        "be rebuilt from the log",
        partition_, e.detail);
    reload_needed_ = true;
  }

  // The events of one command sent with an Idempotency-Key all carry it:
  // consecutive events of one caller with the same key and time.
  static bool same_command(const event& a, const event& b) {
    return a.idempotency_key && b.idempotency_key && *a.idempotency_key == *b.idempotency_key &&
           a.actor == b.actor && a.tenant == b.tenant && a.time == b.time;
  }

  // Events read from the log (recovery): the write model takes them, and
  // every command sent with an Idempotency-Key gets its record back, its
  // answer rendered as it was given (after all of the command's events). A
  // command whose events may go on in the next poll is held back until
  // they are all read, so that the store's checkpoint never falls inside
  // a command.
  status replay(std::vector<ports::recorded_event> polled,
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
      auto past = std::partition_point(
          records_unread.begin(), records_unread.end(),
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
      stop({u.tenant ? u.tenant->value : "", u.pos, "an unreadable event (" + u.reason + ")"});

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
          const auto subject = answer_subject_of(
              std::span<const event>(events.data() + first, events.size() - first));
          if (const aggregate* target = view.find(subject.target)) {
            records.emplace_back(
                idempotency_key(e.tenant, e.actor, *e.idempotency_key),
                idempotency_record{
                    *e.request_digest,
                    render_answer(*target, subject.line_id, e.time, view.tenant().settings),
                    recorded[i].pos.token(), version_of(target).value, millis_of(e.time)});
          }
        } catch (const std::exception& ex) {
          failed = ports::tenant_stop{
              e.tenant.value, recorded[i].pos,
              std::string("its stored state could not be read (") + ex.what() + ")"};
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

  struct due_change;
  void tell_scheduler(const std::vector<due_change>& dues) {
    if (!bus_.scheduler_) return;
    for (const auto& d : dues) {
      if (d.timeout_minutes)
        bus_.scheduler_->set_timeout(d.tenant, *d.timeout_minutes);
      else
        bus_.scheduler_->track(d.tenant, d.session, d.rule);
    }
  }

  struct due_change {
    ids::tenant tenant;
    ids::session session;
    std::optional<scheduler::due_rule> rule;      // nullopt: no longer due
    std::optional<std::int64_t> timeout_minutes;  // set: the tenant's timeout changed
  };

  // What the events change in the scheduler's index (kept in the store with
  // the write model, so a restart knows what is due).
  std::vector<due_change> due_changes(const std::vector<event>& events, ports::kv_batch& kv) {
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

  // The position of the last event this decider has seen in its partition
  // (in its store's checkpoint, replayed, or appended); {p, -1} before any.
  [[nodiscard]] ports::position last_position() const {
    return last_.value_or(ports::position{partition_, -1});
  }

 public:
  [[nodiscard]] std::int64_t last_offset() const { return last_offset_.load(); }

 private:
  void seen(const ports::position& p) {
    last_ = p;
    last_offset_ = p.offset;
  }

  void decide_one(const command_request& req, outcome& out, std::vector<event>& events,
                  std::set<std::string>& keys_in_batch, timestamp now) {
    if (req.idempotency_key) {
      const std::string key = idempotency_key(req.tenant, req.actor, *req.idempotency_key);
      if (keys_in_batch.contains(key)) {
        out.reply.failure = make_error(errc::request_in_progress,
                                       "a request with this Idempotency-Key is in progress");
        return;
      }
      if (auto stored = bus_.state_.get(key)) {
        auto rec = json::read_own<idempotency_record>(*stored);
        if (rec && millis_of(now) - rec->stored_at_ms <
                       std::chrono::milliseconds(idempotency_ttl).count()) {
          if (rec->request_digest != req.request_digest) {
            out.reply.failure = make_error(errc::idempotency_key_reused,
                                           "this Idempotency-Key was used for a different request");
            return;
          }
          out.reply.body = rec->body;
          out.reply.position = ports::position::parse(rec->position);
          out.reply.version = tally::version{rec->version};
          out.reply.replayed = true;
          return;
        }
      }
      keys_in_batch.insert(key);
      out.record_key = key;
    }

    if (const auto stop = bus_.stops_.stop_of(req.tenant)) {
      out.reply.failure = make_error(
          errc::unavailable,
          fmt::format("this tenant's history holds a record that cannot be read at {} ({}); its "
                      "commands are refused until an operator repairs it",
                      stop->pos.token(), stop->reason));
      return;
    }
    auto state = model_.for_tenant(req.tenant);
    decide_context ctx{req.tenant,
                       req.actor,
                       req.actor_name,
                       req.actor_is_admin,
                       now,
                       [] { return new_uuid(); },
                       req.host_scoped,
                       req.customer_scoped};
    auto d = decide(req.cmd, state, ctx);
    if (!d) {
      out.reply.failure = std::move(d).take_error();
      return;
    }
    if (req.if_match) {
      const auto current = version_of(state.find(d->target)).value;
      if (*req.if_match == any_version ? current == 0 : current != *req.if_match) {
        out.reply.failure =
            make_error(errc::version_conflict,
                       *req.if_match == any_version
                           ? std::string("If-Match: * needs the resource to exist; it does not yet")
                           : fmt::format("the version is {}, not {}", current, *req.if_match));
        return;
      }
    }

    // The command's events are made whole (versions, chain) before any of
    // them changes the state, so that one that would not read back refuses
    // the command and leaves the state as it was (hash_to_append).
    std::vector<event> made;
    made.reserve(d->events.size());
    std::map<std::string, std::int64_t, std::less<>> versions;
    std::string head = state.tenant().chain_head;
    for (auto& data : d->events) {
      event e;
      e.id = ids::event{new_uuid()};
      e.tenant = req.tenant;
      e.stream = stream_of(req.tenant, data);
      std::string key = e.stream.aggregate_key();
      auto v = versions.find(key);
      if (v == versions.end()) {
        const auto current = version_of(state.find(key)).value;
        v = versions.emplace(std::move(key), current).first;
      }
      e.stream_version = tally::version{++v->second};
      e.time = now;
      e.actor = req.actor;
      e.actor_name = req.actor_name.value_or("");
      e.correlation_id = req.correlation_id;
      // Every event of the command carries what a replay needs to answer a
      // retry (docs/domain.md, "Idempotency keys").
      if (req.idempotency_key) {
        e.idempotency_key = req.idempotency_key;
        e.request_digest = req.request_digest;
      }
      e.data = std::move(data);
      // The tenant's chain (docs/audit.md): its head is in the write model,
      // and evolve moves it to each event's hash.
      e.prevhash = head.empty() ? std::string(genesis_hash) : head;
      auto hash = hash_to_append(e);
      if (!hash) {
        spdlog::error("a command of tenant {} was refused: {}", req.tenant.value,
                      hash.err().detail);
        out.reply.failure =
            make_error(errc::internal,
                       "the command's events could not be written so that they read back; "
                       "nothing was written (" +
                           hash.err().detail + ")");
        return;
      }
      e.hash = std::move(*hash);
      head = e.hash;
      made.push_back(std::move(e));
    }
    out.first_event = events.size();
    out.event_count = made.size();
    for (auto& e : made) {
      evolve(state, e);
      events.push_back(std::move(e));
    }
#ifndef NDEBUG
    if (out.event_count) {
      // A replay renders the answer from the events alone: it must agree.
      const auto subject = answer_subject_of(
          std::span<const event>(events.data() + out.first_event, out.event_count));
      assert(subject.target == d->target && subject.line_id == d->line_id);
    }
#endif
    const aggregate* target = state.find(d->target);
    if (!target) {
      out.reply.failure = make_error(errc::internal, "the command left no state to show");
      return;
    }
    out.reply.version = version_of(target);
    out.reply.body = render_answer(*target, d->line_id, now, state.tenant().settings);
  }

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
