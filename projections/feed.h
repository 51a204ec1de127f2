#pragma once

#include "infra/ports/event_log.h"

#include <string>
#include <vector>

namespace tally::projections {

// One message for WebSocket subscribers of `channel` (API.md, "Real time").
struct feed_message {
  std::string channel;
  std::string json;
  bool private_note = false;  // hidden from the customer role
  // The session an event of a session stream is about: a host-scoped
  // subscriber sees another host's appointment on no channel.
  std::optional<ids::session> session;
};

// Every message an event gives, on every channel it touches: the event itself
// ({"channel", "position", "event"}) and the derived messages
// (picklist.line_added / line_removed / line_picked / line_reduced, alert
// sold_out).
// Computed from the event alone, so a replay gives the same messages.
// `event_json` is the CloudEvent with its position (cloud_event_with_position).
std::vector<feed_message> derive_feed(const event& e, const ports::position& pos,
                                      const std::string& event_json);

// The CloudEvent with its position attribute, as readers outside the log see it.
std::string cloud_event_with_position(const ports::recorded_event& r);

}  // namespace tally::projections
