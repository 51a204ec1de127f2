#include "projections/feed.h"

#include "base/json.h"
#include "domain/views.h"

namespace tally::projections {

namespace {

struct removed_line {
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::int64_t quantity = 0;
  std::string reason;
};
BOOST_DESCRIBE_STRUCT(removed_line, (), (session_id, line_id, item_id, name, quantity, reason))

std::string json_string(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

struct builder {
  std::vector<feed_message> out;
  const std::string& event_json;
  std::string position;

  void event_on(const std::string& channel, bool private_note = false) {
    out.push_back({channel,
                   R"({"channel":)" + json_string(channel) + R"(,"position":)" + position +
                       R"(,"event":)" + event_json + "}",
                   private_note});
  }
  void derived(const std::string& channel, std::string_view type, std::string_view body_name,
               const std::string& body) {
    out.push_back({channel,
                   R"({"channel":)" + json_string(channel) + R"(,"type":)" + json_string(type) +
                       R"(,"position":)" + position + "," + json_string(body_name) + ":" + body +
                       "}",
                   false});
  }
  void alert(const ids::session& s, std::string_view code, const removed_line& line) {
    const std::string channel = "session:" + s.value;
    out.push_back({channel,
                   R"({"channel":)" + json_string(channel) + R"(,"type":"alert","code":)" +
                       json_string(code) + R"(,"position":)" + position + R"(,"line":)" +
                       json::write(line) + "}",
                   false});
  }
};

void derive_session_feed(builder& b, const event& e) {
  const std::string session_channel = "session:" + e.stream.id();
  const auto* note = std::get_if<note_added>(&e.data);
  const bool private_note = note && note->private_;
  b.event_on("sessions", private_note);
  b.event_on(session_channel, private_note);

  if (const auto* d = std::get_if<item_added>(&e.data)) {
    b.event_on("inventory");
    if (d->effect == stock_effect::reserved) {
      b.event_on("picklist");
      b.derived("picklist", "picklist.line_added", "line",
                json::write(pick_line_view{d->session_id, d->line_id, d->item_id, d->name,
                                           d->location, d->quantity, 0, d->quantity, e.time,
                                           std::nullopt, std::nullopt}));
    }
  } else if (const auto* d = std::get_if<item_reduced>(&e.data)) {
    // A write-down took part of the hold: the line stays, smaller.
    b.event_on("inventory");
    b.event_on("picklist");
    b.derived("picklist", "picklist.line_reduced", "line",
              json::write(pick_line_view{
                  d->session_id, d->line_id, d->item_id, d->name, d->location.value_or(""),
                  d->line_quantity, d->picked_quantity, d->line_quantity - d->picked_quantity,
                  d->added_at, d->picked_at,
                  d->picked_by ? std::optional(user_ref{*d->picked_by, d->picked_by_name})
                               : std::nullopt}));
    b.alert(d->session_id, "sold_out",
            removed_line{d->session_id, d->line_id, d->item_id, d->name, d->quantity, "sold_out"});
  } else if (const auto* d = std::get_if<item_removed>(&e.data)) {
    b.event_on("inventory");
    removed_line line{
        d->session_id, d->line_id,
        d->item_id,    d->name,
        d->quantity,   std::string(boost::describe::enum_to_string(d->reason, "removed"))};
    if (d->effect == stock_effect::released) {
      b.event_on("picklist");
      b.derived("picklist", "picklist.line_removed", "line", json::write(line));
    }
    if (d->reason == removal_reason::sold_out) b.alert(d->session_id, "sold_out", line);
  } else if (const auto* d = std::get_if<item_picked>(&e.data)) {
    b.event_on("picklist");
    b.derived(
        "picklist", "picklist.line_picked", "line",
        json::write(pick_line_view{d->session_id, d->line_id, d->item_id, d->name, d->location,
                                   d->line_quantity, d->picked_quantity, d->remaining, d->added_at,
                                   e.time, user_ref{d->picked_by, d->picked_by_name}}));
  } else if (const auto* d = std::get_if<session_ended>(&e.data)) {
    if (d->kind == session_kind::shopping) {
      b.event_on("inventory");
      b.event_on("picklist");
      for (const auto& l : d->released_lines) {
        b.derived("picklist", "picklist.line_removed", "line",
                  json::write(
                      removed_line{d->session_id, l.line_id, l.item_id, l.name, l.quantity,
                                   std::string(boost::describe::enum_to_string(d->outcome, ""))}));
      }
    }
  }
}

}  // namespace

std::string cloud_event_with_position(const ports::recorded_event& r) {
  std::string out = R"({"position":")" + r.pos.token() + "\",";
  out.append(r.cloud_event, 1);
  return out;
}

std::vector<feed_message> derive_feed(const event& e, const ports::position& pos,
                                      const std::string& event_json) {
  builder b{{}, event_json, json_string(pos.token())};
  if (e.stream.is(stream_kind::item)) {
    b.event_on("inventory");
    return std::move(b.out);
  }
  const auto session = e.stream.session();
  if (!session) return std::move(b.out);
  derive_session_feed(b, e);
  for (auto& m : b.out) m.session = *session;
  return std::move(b.out);
}

}  // namespace tally::projections
