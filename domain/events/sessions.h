#pragma once

// The events of a session's life: requested to ended, its lines, picks,
// notes, attendance, details and feedback. Part of domain/events.h.

#include "domain/events/values.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

// ---- sessions -----------------------------------------------------------

// An appointment asked for (by the public booking form, a customer, or staff).
struct session_requested {
  static constexpr std::string_view type = "SessionRequested";
  ids::session session_id;
  session_kind kind = session_kind::appointment;
  customer_ref customer;
  std::string title;
  std::int64_t duration_minutes = 0;
  std::optional<timestamp> scheduled_start;
  std::optional<ids::user> host_id;
  std::optional<std::string> meeting_url;
  std::optional<std::string> notes;
  std::string requested_via;             // "public", "customer" or "staff"
  std::optional<std::string> host_name;  // added in December: the host's name, where known
};
BOOST_DESCRIBE_STRUCT(session_requested, (),
                      (session_id, kind, customer, title, duration_minutes, scheduled_start,
                       host_id, meeting_url, notes, requested_via, host_name))

struct session_quoted {
  static constexpr std::string_view type = "SessionQuoted";
  ids::session session_id;
  cents price_cents = 0;
  std::optional<cents> previous_price_cents;
};
BOOST_DESCRIBE_STRUCT(session_quoted, (), (session_id, price_cents, previous_price_cents))

struct session_booked {
  static constexpr std::string_view type = "SessionBooked";
  ids::session session_id;
  ids::customer customer_id;
  timestamp scheduled_start;
  std::int64_t duration_minutes = 0;
  timestamp scheduled_end;
  cents price_cents = 0;
  ids::user host_id;
  std::optional<std::string> meeting_url;
  std::optional<std::string> host_name;  // added in December: the host's name, where known
};
BOOST_DESCRIBE_STRUCT(session_booked, (),
                      (session_id, customer_id, scheduled_start, duration_minutes, scheduled_end,
                       price_cents, host_id, meeting_url, host_name))

struct session_rescheduled {
  static constexpr std::string_view type = "SessionRescheduled";
  ids::session session_id;
  timestamp scheduled_start;
  std::int64_t duration_minutes = 0;
  timestamp scheduled_end;
  timestamp previous_start;
  std::int64_t previous_duration_minutes = 0;
};
BOOST_DESCRIBE_STRUCT(session_rescheduled, (),
                      (session_id, scheduled_start, duration_minutes, scheduled_end, previous_start,
                       previous_duration_minutes))

struct session_started {
  static constexpr std::string_view type = "SessionStarted";
  ids::session session_id;
  session_kind kind = session_kind::metered;
  customer_ref customer;
  ids::user host_id;
  std::optional<std::string> host_name;
  std::optional<resource_ref> resource;
  timestamp started_at;
  std::optional<std::string> notes;
};
BOOST_DESCRIBE_STRUCT(session_started, (),
                      (session_id, kind, customer, host_id, host_name, resource, started_at, notes))

struct item_added {
  static constexpr std::string_view type = "ItemAdded";
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::string unit;
  std::string location;
  std::int64_t quantity = 0;
  cents unit_price_cents = 0;
  cents list_price_cents = 0;
  cents line_total_cents = 0;
  stock_effect effect = stock_effect::consumed;
};
BOOST_DESCRIBE_STRUCT(item_added, (),
                      (session_id, line_id, item_id, name, unit, location, quantity,
                       unit_price_cents, list_price_cents, line_total_cents, effect))

struct item_removed {
  static constexpr std::string_view type = "ItemRemoved";
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::int64_t quantity = 0;
  removal_reason reason = removal_reason::removed;
  stock_effect effect = stock_effect::returned;
};
BOOST_DESCRIBE_STRUCT(item_removed, (),
                      (session_id, line_id, item_id, name, quantity, reason, effect))

// A shopping line that lost part of its hold to a stock write-down (added in
// December): the unpicked units taken back, newest hold first, and what is
// left of the line. A line left with nothing is removed (ItemRemoved
// sold_out) instead.
struct item_reduced {
  static constexpr std::string_view type = "ItemReduced";
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::int64_t quantity = 0;         // taken back now
  std::int64_t line_quantity = 0;    // the line's quantity after
  std::int64_t picked_quantity = 0;  // picked of the line (kept)
  cents unit_price_cents = 0;
  cents line_total_cents = 0;  // after
  removal_reason reason = removal_reason::sold_out;
  stock_effect effect = stock_effect::released;
  // The rest of the line as the pick list shows it, so that a consumer can
  // replace its line with this one (issue #24; none in older events).
  std::optional<std::string> location;
  std::optional<std::string> unit;
  std::optional<timestamp> added_at;
  std::optional<timestamp> picked_at;
  std::optional<ids::user> picked_by;
  std::optional<std::string> picked_by_name;
};
BOOST_DESCRIBE_STRUCT(item_reduced, (),
                      (session_id, line_id, item_id, name, quantity, line_quantity, picked_quantity,
                       unit_price_cents, line_total_cents, reason, effect, location, unit, added_at,
                       picked_at, picked_by, picked_by_name))

struct price_adjusted {
  static constexpr std::string_view type = "PriceAdjusted";
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::int64_t quantity = 0;
  cents unit_price_cents = 0;      // the new price
  cents previous_price_cents = 0;  // the price before this adjustment
  cents list_price_cents = 0;      // the item's list price when the line was added
  cents line_total_cents = 0;
  std::optional<std::string> reason;
  ids::user adjusted_by;
  std::optional<std::string> adjusted_by_name;
};
BOOST_DESCRIBE_STRUCT(price_adjusted, (),
                      (session_id, line_id, item_id, name, quantity, unit_price_cents,
                       previous_price_cents, list_price_cents, line_total_cents, reason,
                       adjusted_by, adjusted_by_name))

struct item_picked {
  static constexpr std::string_view type = "ItemPicked";
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::string location;
  std::int64_t quantity = 0;         // picked now
  std::int64_t line_quantity = 0;    // the line's quantity
  std::int64_t picked_quantity = 0;  // picked in all, after this pick
  std::int64_t remaining = 0;        // still to pick
  ids::user picked_by;
  std::optional<std::string> picked_by_name;
  std::optional<timestamp> added_at;  // when the line was added (added in December)
};
BOOST_DESCRIBE_STRUCT(item_picked, (),
                      (session_id, line_id, item_id, name, location, quantity, line_quantity,
                       picked_quantity, remaining, picked_by, picked_by_name, added_at))

struct note_added {
  static constexpr std::string_view type = "NoteAdded";
  ids::session session_id;
  ids::note note_id;
  std::string text;
  bool private_ = false;
  ids::user author_id;
  std::optional<std::string> author_name;
};
BOOST_DESCRIBE_STRUCT(note_added, (), (session_id, note_id, text, private_, author_id, author_name))

enum class attendee { customer, host };
BOOST_DESCRIBE_ENUM(attendee, customer, host)
enum class attendance_change { joined, left };
BOOST_DESCRIBE_ENUM(attendance_change, joined, left)

// Someone joined or left an appointment (seed 004's video-provider events).
struct attendance_recorded {
  static constexpr std::string_view type = "AttendanceRecorded";
  ids::session session_id;
  attendee party = attendee::customer;
  attendance_change action = attendance_change::joined;
  timestamp at;
  std::optional<std::string> source;
  ids::user recorded_by;
};
BOOST_DESCRIBE_STRUCT(attendance_recorded, (), (session_id, party, action, at, source, recorded_by))

// A shopping line whose reservation an end released (cancelled, timed out).
struct released_line {
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::int64_t quantity = 0;
};
BOOST_DESCRIBE_STRUCT(released_line, (), (line_id, item_id, name, quantity))

struct session_ended {
  static constexpr std::string_view type = "SessionEnded";
  ids::session session_id;
  session_kind kind = session_kind::metered;
  session_outcome outcome = session_outcome::completed;
  timestamp ended_at;
  std::optional<std::string> reason;
  ids::customer customer_id;
  std::optional<ids::resource> resource_id;  // freed by this end
  std::int64_t billed_minutes = 0;
  cents time_charge_cents = 0;
  cents items_total_cents = 0;
  cents total_cents = 0;
  std::vector<released_line> released_lines;
  // On a no-show (added in December): who did not come. Older no-shows say
  // it in `reason` only ("customer absent", "host absent").
  std::optional<attendee> absent_party;
};
BOOST_DESCRIBE_STRUCT(session_ended, (),
                      (session_id, kind, outcome, ended_at, reason, customer_id, resource_id,
                       billed_minutes, time_charge_cents, items_total_cents, total_cents,
                       released_lines, absent_party))

// Title, notes, meeting link or an appointment's price, changed while the
// session is open (PATCH /v1/sessions/{id}; added in December). Only what
// changed is set; `changed` names it.
struct session_details_changed {
  static constexpr std::string_view type = "SessionDetailsChanged";
  ids::session session_id;
  std::optional<std::string> title;
  std::optional<std::string> notes;
  std::optional<std::string> meeting_url;
  std::optional<cents> price_cents;
  std::optional<cents> previous_price_cents;
  std::vector<std::string> changed;
  ids::user changed_by;
  std::optional<std::string> changed_by_name;
  // Of `changed`, the fields cleared (title, notes, meeting_url): they have
  // no value now. Empty in events written before clearing existed.
  std::vector<std::string> cleared;
};
BOOST_DESCRIBE_STRUCT(session_details_changed, (),
                      (session_id, title, notes, meeting_url, price_cents, previous_price_cents,
                       changed, changed_by, changed_by_name, cleared))

// The customer's rating of a session that ended (seed 001's satisfaction,
// seed 002's reviews; added in December). Once per session.
struct feedback_given {
  static constexpr std::string_view type = "FeedbackGiven";
  ids::session session_id;
  ids::customer customer_id;
  session_kind kind = session_kind::metered;
  std::int64_t rating = 0;  // 1 to 5
  std::optional<std::string> comment;
};
BOOST_DESCRIBE_STRUCT(feedback_given, (), (session_id, customer_id, kind, rating, comment))

}  // namespace tally
