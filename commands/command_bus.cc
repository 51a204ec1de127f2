#include "commands/command_bus.h"

#include "base/json.h"
#include "base/uuid.h"
#include "commands/scheduler.h"
#include "domain/state_codec.h"
#include "domain/views.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

namespace tally::commands {

namespace {

constexpr std::chrono::hours idempotency_ttl{24};

struct idempotency_record {
  std::string fingerprint;
  std::string body;
  std::string position;
  std::int64_t version = 0;
  std::int64_t stored_at_ms = 0;
};
BOOST_DESCRIBE_STRUCT(idempotency_record, (), (fingerprint, body, position, version, stored_at_ms))

// Keys are the caller's (API.md): tenant and token `sub`, so that two callers
// never see each other's answers. The sub is length-prefixed because both it
// and the key may hold any character.
std::string idempotency_key(const ids::tenant& t, const ids::user& caller, const std::string& key) {
  return fmt::format("i/{}/{}:{}/{}", t.value, caller.value.size(), caller.value, key);
}

std::int64_t real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct line_answer {
  ids::line line_id;
  std::int64_t reserved = 0;
  std::int64_t consumed = 0;
  line_view line;
  session_view session;
};
BOOST_DESCRIBE_STRUCT(line_answer, (), (line_id, reserved, consumed, line, session))

}  // namespace

std::string command_bus::render_answer(const aggregate& target, const decision& d, timestamp now) {
  return std::visit(
      [&](const auto& s) -> std::string {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, session_state>) {
          session_view v = render(s, now);
          if (d.line_id) {
            line_answer a;
            a.line_id = *d.line_id;
            for (const auto& l : v.lines) {
              if (l.line_id != *d.line_id) continue;
              a.line = l;
              const auto* st = s.find_line(*d.line_id);
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

class command_bus::decider {
 public:
  decider(command_bus& bus, std::int32_t partition)
      : bus_(bus), partition_(partition), model_(bus.state_, bus.opts_.cache_capacity) {}

  status recover() {
    std::int64_t from = model_.checkpoint(partition_).value_or(-1) + 1;
    std::size_t applied = 0;
    for (;;) {
      auto events = bus_.log_.read(partition_, from, 1000);
      if (!events) return std::move(events).take_error();
      if (events->empty()) break;
      if (auto s = model_.apply_recorded(*events); !s) return s;
      applied += events->size();
      from = events->back().pos.offset + 1;
    }
    if (applied)
      spdlog::info("write model of partition {}: replayed {} events from the log", partition_,
                   applied);
    purge_idempotency_records();
    return ok();
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // Forgets idempotency records older than the 24 h they are kept for, so
  // the store does not grow with every key ever sent.
  void purge_idempotency_records() {
    ports::kv_batch expired;
    const auto cutoff = real_now_ms() - std::chrono::milliseconds(idempotency_ttl).count();
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

  void submit(command_request r, callback done) {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ && queue_.size() < bus_.opts_.queue_limit) {
        queue_.push_back({std::move(r), std::move(done)});
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
      }
      process(batch);
      if (++batches_ % 10'000 == 0) purge_idempotency_records();
    }
  }

  void process(std::vector<pending>& batch) {
    std::vector<event> events;
    std::vector<outcome> outcomes(batch.size());
    std::set<std::string> keys_in_batch;
    const timestamp now = bus_.clock_.now();

    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& req = batch[i].request;
      auto& out = outcomes[i];
      try {
        decide_one(req, out, events, keys_in_batch, now);
      } catch (const std::exception& ex) {
        // A store that cannot be read: this command fails, the batch goes on.
        spdlog::error("deciding a command failed: {}", ex.what());
        out.reply.failure = make_error(errc::internal, "the command could not be decided");
      }
    }

    bool appended = true;
    std::vector<ports::position> positions;
    std::vector<due_change> dues;
    if (!events.empty()) {
      auto side = [&](const std::vector<ports::position>& pos) {
        ports::kv_batch kv;
        model_.stage(kv);
        dues = due_changes(events, kv);
        kv.put(write_model::checkpoint_key(partition_), std::to_string(pos.back().offset));
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
          auto& o = outcomes[i];
          if (!o.record_key || o.reply.failure) continue;
          const auto p = o.event_count ? pos[o.first_event + o.event_count - 1] : last_position();
          kv.put(*o.record_key,
                 json::write(idempotency_record{batch[i].request.fingerprint, o.reply.body,
                                                p.token(), o.reply.version.value, real_now_ms()}));
        }
        return kv;
      };
      auto r = bus_.log_.append(partition_, events, side);
      if (r) {
        if (append_failing_) spdlog::info("appends succeed again");
        append_failing_ = false;
        positions = std::move(*r);
        model_.commit();
        if (bus_.scheduler_) {
          for (const auto& d : dues) {
            if (d.timeout_minutes)
              bus_.scheduler_->set_timeout(d.tenant, *d.timeout_minutes);
            else
              bus_.scheduler_->track(d.tenant, d.session, d.rule);
          }
        }
      } else {
        appended = false;
        model_.discard();
        // Once per failure spell, not per batch: a full disk refuses every one.
        if (!append_failing_)
          spdlog::error("append failed, {} commands refused: {}", batch.size(), r.err().detail);
        append_failing_ = true;
        for (auto& o : outcomes) {
          if (!o.reply.failure && o.event_count) o.reply.failure = r.err();
        }
      }
    } else {
      model_.discard();  // only reads happened
    }
    if (!positions.empty()) last_ = positions.back();

    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& o = outcomes[i];
      if (!o.reply.failure && !o.reply.replayed) {
        o.reply.position =
            o.event_count ? positions[o.first_event + o.event_count - 1] : last_position();
      }
      if (!appended && o.reply.failure && o.reply.failure->code == errc::internal) {
        // keep the original failure
      }
      batch[i].done(std::move(o.reply));
    }
  }

  struct due_change {
    ids::tenant tenant;
    ids::session session;
    std::optional<scheduler::due_rule> rule;      // nullopt: no longer due
    std::optional<std::int64_t> timeout_minutes;  // set: the tenant's timeout changed
  };

  // What the batch changes in the scheduler's index (kept beside the write
  // model, in the same atomic write, so a restart knows what is due).
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
      if (!e.stream.starts_with("session-") || !seen.insert({e.tenant.value, e.stream}).second)
        continue;
      const ids::session id{e.stream.substr(8)};
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

  ports::position last_position() {
    if (!last_) {
      const auto end = bus_.log_.end(partition_);
      last_ = ports::position{partition_, end - 1};
    }
    return *last_;
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
        if (rec && real_now_ms() - rec->stored_at_ms <
                       std::chrono::milliseconds(idempotency_ttl).count()) {
          if (rec->fingerprint != req.fingerprint) {
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

    auto state = model_.for_tenant(req.tenant);
    decide_context ctx{req.tenant,         req.actor, req.actor_name,
                       req.actor_is_admin, now,       [] { return new_uuid(); }};
    auto d = decide(req.cmd, state, ctx);
    if (!d) {
      out.reply.failure = std::move(d).take_error();
      return;
    }
    if (req.if_match && version_of(state.find(d->target)).value != *req.if_match) {
      out.reply.failure =
          make_error(errc::version_conflict,
                     fmt::format("the version is {}, not {}",
                                 version_of(state.find(d->target)).value, *req.if_match));
      return;
    }

    out.first_event = events.size();
    out.event_count = d->events.size();
    for (auto& data : d->events) {
      event e;
      e.id = ids::event{new_uuid()};
      e.tenant = req.tenant;
      e.stream = stream_of(req.tenant, data);
      const std::string key =
          e.stream.starts_with("tenant-") ? std::string(keys::tenant) : e.stream;
      e.stream_version = tally::version{version_of(state.find(key)).value + 1};
      e.time = now;
      e.actor = req.actor;
      e.actor_name = req.actor_name.value_or("");
      e.correlation_id = req.correlation_id;
      e.data = std::move(data);
      evolve(state, e);
      events.push_back(std::move(e));
    }
    const aggregate* target = state.find(d->target);
    if (!target) {
      out.reply.failure = make_error(errc::internal, "the command left no state to show");
      return;
    }
    out.reply.version = version_of(target);
    out.reply.body = render_answer(*target, *d, now);
  }

  command_bus& bus_;
  std::int32_t partition_;
  write_model model_;
  std::optional<ports::position> last_;
  std::uint64_t batches_ = 0;
  bool append_failing_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<pending> queue_;
  bool stopping_ = false;
};

command_bus::command_bus(ports::event_log& log, ports::kv_store& state, const clock_source& clock,
                         options opts)
    : log_(log), state_(state), clock_(clock), opts_(opts) {}

command_bus::~command_bus() { stop(); }

status command_bus::start() {
  for (std::int32_t p = 0; p < log_.partition_count(); ++p) {
    auto d = std::make_unique<decider>(*this, p);
    if (auto s = d->recover(); !s) return s;
    deciders_.push_back(std::move(d));
  }
  for (auto& d : deciders_) d->start();
  return ok();
}

void command_bus::stop() {
  for (auto& d : deciders_) d->stop();
}

void command_bus::submit(command_request request, callback done) {
  const auto p = log_.partition_of(request.tenant);
  if (p < 0 || static_cast<std::size_t>(p) >= deciders_.size()) {
    done(command_reply{
        make_error(errc::unavailable, "the command side is not running"), {}, {}, {}, false});
    return;
  }
  deciders_[static_cast<std::size_t>(p)]->submit(std::move(request), std::move(done));
}

}  // namespace tally::commands
