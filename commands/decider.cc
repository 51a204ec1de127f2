// Deciding: the batches of commands, group commit, the answers.

#include "commands/decider.h"

#include "base/json.h"
#include "base/uuid.h"
#include "domain/chain.h"
#include "domain/state_codec.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <map>

namespace tally::commands {

void command_bus::decider::start() {
  thread_ = std::thread([this] { run(); });
}

void command_bus::decider::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void command_bus::decider::abandon() {
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

void command_bus::decider::submit(command_request r, callback done) {
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

void command_bus::decider::run() {
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

bool command_bus::decider::reload(std::vector<pending>& batch) {
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

void command_bus::decider::process(std::vector<pending>& batch) {
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
        records.emplace_back(*o.record_key,
                             idempotency_record{batch[i].request.request_digest, o.reply.body,
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
          idempotency_record{batch[i].request.request_digest, o.reply.body, last_position().token(),
                             o.reply.version.value, millis_of(now)});
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

void command_bus::decider::persist(const std::vector<event>& events,
                                   const std::vector<ports::position>& positions,
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

void command_bus::decider::store_failed(const error& e) {
  spdlog::error(
      "the write model's store of partition {} could not be written ({}); it will "
      "be rebuilt from the log",
      partition_, e.detail);
  reload_needed_ = true;
}

ports::position command_bus::decider::last_position() const {
  return last_.value_or(ports::position{partition_, -1});
}

void command_bus::decider::seen(const ports::position& p) {
  last_ = p;
  last_offset_ = p.offset;
}

void command_bus::decider::decide_one(const command_request& req, outcome& out,
                                      std::vector<event>& events,
                                      std::set<std::string>& keys_in_batch, timestamp now) {
  if (req.idempotency_key) {
    const std::string key = idempotency_key(req.tenant, req.actor, *req.idempotency_key);
    if (keys_in_batch.contains(key)) {
      out.reply.failure = make_error(errc::request_in_progress,
                                     "a request with this Idempotency-Key is in progress");
      return;
    }
    if (answer_again(key, req.request_digest, out, now)) return;
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
  if (req.bulk.empty()) {
    decide_command(req, req.cmd, req.idempotency_key, out, events, now);
    return;
  }
  // A bulk action: every item decided in turn against the state the ones
  // before it left, each as a command of its own, all in this batch; its
  // answer is remembered under the request's key. Each item's events carry
  // "<key>:<id>", so that after a crash that lost the answer, a retry with
  // the key answers the items already done as done and never does them twice.
  bulk_answer answer;
  out.first_event = events.size();
  for (const auto& item : req.bulk) {
    outcome one;
    std::optional<std::string> item_key;
    if (req.idempotency_key) item_key = *req.idempotency_key + ":" + item.id;
    const bool done = item_key && answer_again(idempotency_key(req.tenant, req.actor, *item_key),
                                               req.request_digest, one, now);
    if (item.refused)
      one.reply.failure = item.refused;
    else if (!done)
      decide_command(req, item.cmd, item_key, one, events, now);
    bulk_result r{item.id, {}, {}, {}};
    if (one.reply.failure) {
      r.code = std::string(code_name(one.reply.failure->code));
      r.detail = one.reply.failure->detail;
      for (const auto& f : one.reply.failure->fields) r.fields.push_back({f.field, f.message});
    }
    answer.results.push_back(std::move(r));
  }
  out.event_count = events.size() - out.first_event;
  out.reply.body = json::write(answer);
}

bool command_bus::decider::answer_again(const std::string& key, const std::string& digest,
                                        outcome& out, timestamp now) {
  auto stored = bus_.state_.get(key);
  if (!stored) return false;
  auto rec = json::read_own<idempotency_record>(*stored);
  if (!rec ||
      millis_of(now) - rec->stored_at_ms >= std::chrono::milliseconds(idempotency_ttl).count())
    return false;
  if (rec->request_digest != digest) {
    out.reply.failure = make_error(errc::idempotency_key_reused,
                                   "this Idempotency-Key was used for a different request");
    return true;
  }
  out.reply.body = rec->body;
  out.reply.position = ports::position::parse(rec->position);
  out.reply.version = tally::version{rec->version};
  out.reply.replayed = true;
  return true;
}

void command_bus::decider::decide_command(const command_request& req, const command& cmd,
                                          const std::optional<std::string>& idempotency,
                                          outcome& out, std::vector<event>& events, timestamp now) {
  auto state = model_.for_tenant(req.tenant);
  decide_context ctx{req.tenant,
                     req.actor,
                     req.actor_name,
                     req.actor_is_admin,
                     now,
                     [] { return new_uuid(); },
                     req.host_scoped,
                     req.customer_scoped};
  auto d = decide(cmd, state, ctx);
  if (!d) {
    out.reply.failure = std::move(d).take_error();
    return;
  }
  if (req.if_match == weak_version) {
    out.reply.failure = make_error(errc::version_conflict,
                                   "a weak entity tag never matches If-Match; send the ETag");
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
    if (idempotency) {
      e.idempotency_key = idempotency;
      e.request_digest = req.request_digest;
    }
    e.data = std::move(data);
    // The tenant's chain (docs/audit.md): its head is in the write model,
    // and evolve moves it to each event's hash.
    e.prevhash = head.empty() ? std::string(genesis_hash) : head;
    auto hash = hash_to_append(e);
    if (!hash) {
      spdlog::error("a command of tenant {} was refused: {}", req.tenant.value, hash.err().detail);
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
    const auto subject =
        answer_subject_of(std::span<const event>(events.data() + out.first_event, out.event_count));
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

}  // namespace tally::commands
