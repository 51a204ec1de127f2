#include "domain/event_codec.h"

#include "base/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace tally {

namespace {

constexpr std::int64_t schema_version = 1;

struct envelope {
  std::string specversion;
  std::string id;
  std::string type;
  std::string source;
  std::string subject;
  timestamp time;
  std::string tenant;
  std::string stream;
  std::int64_t streamversion = 0;
  std::string actor;
  std::optional<std::string> actorname;
  std::optional<std::string> correlationid;
  std::optional<std::string> idempotencykey;
  std::optional<std::string> requestdigest;
  std::int64_t dataschemaversion = 1;
  std::optional<std::string> prevhash;
  std::optional<std::string> hash;
  json::raw data;
};
BOOST_DESCRIBE_STRUCT(envelope, (),
                      (specversion, id, type, source, subject, time, tenant, stream, streamversion,
                       actor, actorname, correlationid, idempotencykey, requestdigest,
                       dataschemaversion, prevhash, hash, data))

template <std::size_t I = 0>
std::optional<event_data> decode_data(std::string_view type, const std::string& text,
                                      std::string* why) {
  if constexpr (I < std::variant_size_v<event_data>) {
    using T = std::variant_alternative_t<I, event_data>;
    if (type == T::type) {
      T v{};
      auto errors = json::parse(text, v, json::mode::lenient);
      if (!errors.empty()) {
        if (why)
          *why = fmt::format("the data of {} does not read: {} {}", type,
                             json::join_path("data", errors.front().field), errors.front().message);
        return std::nullopt;
      }
      return event_data{std::move(v)};
    }
    return decode_data<I + 1>(type, text, why);
  } else {
    if (why)
      *why = fmt::format("{} is not an event type this version knows (written by a newer one?)",
                         type.substr(0, 100));
    return std::nullopt;
  }
}

}  // namespace

std::string encode_cloud_event(const event& e) {
  return boost::json::serialize(cloud_event_object(e));
}

boost::json::object cloud_event_object(const event& e) {
  boost::json::object o;
  o["specversion"] = "1.0";
  o["id"] = e.id.value;
  o["type"] = type_of(e.data);
  o["source"] = "/tenants/" + e.tenant.value;
  o["subject"] = subject_of(e.tenant, e.data);
  o["time"] = format_rfc3339(e.time);
  o["datacontenttype"] = "application/json";
  o["tenant"] = e.tenant.value;
  o["stream"] = e.stream.str();
  o["streamversion"] = e.stream_version.value;
  o["actor"] = e.actor.value;
  if (!e.actor_name.empty()) o["actorname"] = e.actor_name;
  o["correlationid"] = e.correlation_id;
  if (e.idempotency_key) o["idempotencykey"] = *e.idempotency_key;
  if (e.request_digest) o["requestdigest"] = *e.request_digest;
  o["dataschemaversion"] = schema_version;
  if (!e.prevhash.empty()) o["prevhash"] = e.prevhash;
  if (!e.hash.empty()) o["hash"] = e.hash;
  o["data"] = std::visit([](const auto& d) { return json::to_value(d); }, e.data);
  return o;
}

std::optional<event> decode_cloud_event(std::string_view text, std::string* why) {
  envelope env;
  if (auto errors = json::parse(text, env, json::mode::lenient); !errors.empty()) {
    if (why)
      *why = errors.front().field == "body"
                 ? "not a CloudEvent: " + errors.front().message
                 : fmt::format("the CloudEvent does not read: {} {}", errors.front().field,
                               errors.front().message);
    return std::nullopt;
  }
  auto data = decode_data(env.type, env.data.text, why);
  if (!data) return std::nullopt;
  event e;
  e.id = ids::event{env.id};
  e.tenant = ids::tenant{env.tenant};
  auto stream = stream_id::parse(env.stream);
  if (!stream) {
    if (why) *why = "its stream names no kind of aggregate";
    return std::nullopt;
  }
  e.stream = std::move(*stream);
  e.stream_version = version{env.streamversion};
  e.time = env.time;
  e.actor = ids::user{env.actor};
  e.actor_name = env.actorname.value_or("");
  e.correlation_id = env.correlationid.value_or("");
  e.idempotency_key = std::move(env.idempotencykey);
  e.request_digest = std::move(env.requestdigest);
  e.prevhash = env.prevhash.value_or("");
  e.hash = env.hash.value_or("");
  e.data = std::move(*data);
  return e;
}

std::optional<ids::tenant> tenant_named_in(std::string_view text) {
  // Tally writes `"tenant":"<id>"`, with an id of letters, digits and -_.
  // (gateway/auth.cc): found by its bytes, not by parsing, so that a flipped
  // byte elsewhere does not hide whose the event is.
  constexpr std::string_view member = R"("tenant":")";
  for (auto at = text.find(member); at != std::string_view::npos; at = text.find(member, at + 1)) {
    const auto start = at + member.size();
    const auto end = text.find('"', start);
    if (end == std::string_view::npos) return std::nullopt;
    const auto id = text.substr(start, end - start);
    if (!id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        }))
      return ids::tenant{std::string(id)};
  }
  return std::nullopt;
}

}  // namespace tally
