#include "gateway/stream_hub.h"

#include "base/json.h"

#include <algorithm>

#include <fmt/format.h>

namespace tally::gateway {

namespace {

struct client_message {
  std::string op;
  std::optional<std::vector<std::string>> channels;
  std::optional<std::string> after;
};
BOOST_DESCRIBE_STRUCT(client_message, (), (op, channels, after))

std::string json_string(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

// Whether a channel name may be echoed in an answer as it was sent.
bool valid_channel_text(const std::string& channel) {
  return channel.size() <= 120 &&
         std::all_of(channel.begin(), channel.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string channel_of(const std::string& channel, std::string_view prefix) {
  return channel.starts_with(prefix) ? channel.substr(prefix.size()) : std::string();
}

}  // namespace

stream_hub::stream_hub(projections::projector& projector, projections::queries& queries,
                       ports::event_log& log, options opts)
    : projector_(projector), queries_(queries), log_(log), opts_(opts) {
  projector_.on_applied(
      [this](const std::vector<ports::recorded_event>& events) { on_applied(events); });
}

std::shared_ptr<stream_hub::subscriber> stream_hub::connect(const principal& who,
                                                            std::shared_ptr<ws_output> out) {
  auto s = std::make_shared<subscriber>(*this, who, std::move(out));
  std::lock_guard lock(mutex_);
  by_tenant_.emplace(who.tenant.value, s);
  return s;
}

void stream_hub::disconnect(const subscriber* s) {
  std::lock_guard lock(mutex_);
  auto [b, e] = by_tenant_.equal_range(s->who().tenant.value);
  for (auto it = b; it != e;) {
    auto p = it->second.lock();
    if (!p || p.get() == s)
      it = by_tenant_.erase(it);
    else
      ++it;
  }
}

std::size_t stream_hub::connections() const {
  std::lock_guard lock(mutex_);
  return by_tenant_.size();
}

void stream_hub::on_applied(const std::vector<ports::recorded_event>& events) {
  // Called on the projector's thread after the batch is in the read models.
  std::map<std::string,
           std::vector<std::pair<ports::position, std::vector<projections::feed_message>>>>
      per_tenant;
  {
    std::lock_guard lock(mutex_);
    if (by_tenant_.empty()) return;
    for (const auto& r : events) {
      if (!by_tenant_.contains(r.event.tenant.value)) continue;
      per_tenant[r.event.tenant.value].emplace_back(
          r.pos,
          projections::derive_feed(r.event, r.pos, projections::cloud_event_with_position(r)));
    }
  }
  for (auto& [tenant, items] : per_tenant) {
    std::vector<std::shared_ptr<subscriber>> subs;
    {
      std::lock_guard lock(mutex_);
      auto [b, e] = by_tenant_.equal_range(tenant);
      for (auto it = b; it != e; ++it)
        if (auto s = it->second.lock()) subs.push_back(std::move(s));
    }
    for (const auto& s : subs)
      for (const auto& [pos, messages] : items) s->on_live(pos, messages);
  }
}

stream_hub::subscriber::subscriber(stream_hub& hub, principal who, std::shared_ptr<ws_output> out)
    : hub_(hub), who_(std::move(who)), out_(std::move(out)) {}

bool stream_hub::subscriber::allowed(const std::string& channel, std::string& why) const {
  const bool staff_sessions = who_.any_of(role::admin | role::host | role::auditor);
  if (channel == "sessions") {
    if (staff_sessions) return true;
  } else if (channel == "picklist" || channel == "inventory") {
    if (who_.any_of(role::admin | role::host | role::warehouse)) return true;
  } else if (channel.starts_with("session:")) {
    const auto id = channel_of(channel, "session:");
    if (!valid_path_id(id)) {
      why = "is not a session's channel: session ids are 1 to 100 letters, digits, '-', '_' or '.'";
      return false;
    }
    if (who_.host_scoped() && !visible(ids::session{id})) {
      why = "no such session";
      return false;
    }
    if (staff_sessions) return true;
    if (who_.has(role::customer)) {
      auto owner = hub_.queries_.session_customer(who_.tenant, ids::session{id});
      if (owner && owner->value == who_.sub.value) return true;
      why = "no such session";
      return false;
    }
  } else {
    why = "is not a channel (sessions, picklist, inventory or session:<id>)";
    return false;
  }
  why = "this role may not subscribe to it";
  return false;
}

bool stream_hub::subscriber::visible(const ids::session& id) const {
  if (!who_.host_scoped()) return true;
  const auto owner = hub_.queries_.session_owner_of(who_.tenant, id);
  return !owner || owner->kind != session_kind::appointment || owner->host_id == who_.sub;
}

void stream_hub::subscriber::reply_error(std::string_view code, const std::string& detail) {
  out_->send(R"({"op":"error","code":)" + json_string(code) + R"(,"detail":)" +
             json_string(detail) + "}");
}

void stream_hub::subscriber::on_text(std::string_view text) {
  client_message m;
  if (auto errors = json::parse(text, m); !errors.empty())
    return reply_error("invalid_request", errors.front().field + " " + errors.front().message);
  std::lock_guard lock(mutex_);
  if (m.op == "ping") return out_->send(R"({"op":"pong"})");
  if (m.op != "subscribe" && m.op != "unsubscribe")
    return reply_error("invalid_request", "op must be subscribe, unsubscribe or ping");
  if (!m.channels || m.channels->empty())
    return reply_error("invalid_request", "channels must list at least one channel");
  if (m.op == "unsubscribe") {
    for (const auto& c : *m.channels) channels_.erase(c);
    std::vector<std::string> now(channels_.begin(), channels_.end());
    return out_->send(R"({"op":"unsubscribed","channels":)" + json::write(now) + "}");
  }
  std::optional<ports::position> after;
  if (m.after) {
    after = ports::position::parse(*m.after);
    if (!after)
      return reply_error("invalid_request", "after is not a position token this server gave");
  }
  for (const auto& c : *m.channels) {
    std::string why;
    if (!allowed(c, why))
      return reply_error(why == "no such session"      ? "not_found"
                         : why.starts_with("is not a") ? "invalid_request"
                                                       : "forbidden",
                         (valid_channel_text(c) ? c : std::string("channels")) + ": " + why);
  }
  std::set<std::string> added;
  for (const auto& c : *m.channels)
    if (!channels_.contains(c)) added.insert(c);
  if (channels_.size() + added.size() > hub_.opts_.max_channels)
    return reply_error("invalid_request",
                       fmt::format("channels: a connection may hold at most {} channels",
                                   hub_.opts_.max_channels));
  channels_.insert(added.begin(), added.end());
  std::vector<std::string> now(channels_.begin(), channels_.end());
  const auto partition = hub_.log_.partition_of(who_.tenant);
  const ports::position current{partition, hub_.projector_.applied(partition)};
  out_->send(R"({"op":"subscribed","channels":)" + json::write(now) + R"(,"position":)" +
             json_string(current.token()) + "}");
  if (after) {
    replaying_ = true;
    replay_after_ = after;
    last_sent_ = after;
    pump();
  } else if (!last_sent_ || *last_sent_ < current) {
    last_sent_ = current;
  }
}

void stream_hub::subscriber::deliver(const ports::position& pos,
                                     const projections::feed_message& m) {
  if (!channels_.contains(m.channel)) return;
  if (m.private_note && !who_.any_of(role::admin | role::host | role::auditor)) return;
  if (closed_) return;
  if (m.session && !visible(*m.session)) return;  // another host's appointment
  if (out_->queued() >= hub_.opts_.max_queued) {
    closed_ = true;
    out_->close(1008, "too slow: reconnect with after");
    return;
  }
  out_->send(m.json);
  (void)pos;
}

void stream_hub::subscriber::pump() {
  while (replaying_ && !closed_ && out_->queued() < hub_.opts_.low_water) {
    auto chunk =
        hub_.queries_.tenant_events_after(who_.tenant, replay_after_, hub_.opts_.replay_chunk);
    if (chunk.empty()) {
      // Caught up with the read models: what arrived live meanwhile follows.
      replaying_ = false;
      for (const auto& [pos, m] : held_)
        if (!replay_after_ || *replay_after_ < pos) deliver(pos, m);
      if (!held_.empty() && (!replay_after_ || *replay_after_ < held_.back().first))
        replay_after_ = held_.back().first;
      held_.clear();
      last_sent_ = replay_after_;
      return;
    }
    for (const auto& e : chunk) {
      for (const auto& m : projections::derive_feed(e.event, e.position, e.json))
        deliver(e.position, m);
      replay_after_ = e.position;
    }
  }
}

void stream_hub::subscriber::on_drained() {
  std::lock_guard lock(mutex_);
  pump();
}

void stream_hub::subscriber::on_live(const ports::position& pos,
                                     const std::vector<projections::feed_message>& messages) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (replaying_) {
    for (const auto& m : messages) held_.emplace_back(pos, m);
    if (held_.size() > hub_.opts_.max_queued * 4) {
      closed_ = true;
      out_->close(1008, "too slow: reconnect with after");
    }
    return;
  }
  if (last_sent_ && !(*last_sent_ < pos)) return;  // already sent by the replay
  for (const auto& m : messages) deliver(pos, m);
  last_sent_ = pos;
}

}  // namespace tally::gateway
