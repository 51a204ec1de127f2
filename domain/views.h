#pragma once

// How aggregates look to clients (API.md shapes). Rendered from state by the
// command side (the answer to a command) and the read side (queries) alike,
// so both always agree.

#include "domain/pricing.h"
#include "domain/state.h"

#include <boost/describe.hpp>

namespace tally {

// Who did something, by id and, where known, name.
struct user_ref {
  ids::user user_id;
  std::optional<std::string> name;
};
BOOST_DESCRIBE_STRUCT(user_ref, (), (user_id, name))

struct line_view {
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::string unit;
  std::string location;
  std::int64_t quantity = 0;
  cents unit_price_cents = 0;
  cents list_price_cents = 0;
  std::int64_t picked_quantity = 0;
  cents line_total_cents = 0;
  timestamp added_at;
  std::optional<timestamp> picked_at;  // the last pick
  std::optional<user_ref> picked_by;
};
BOOST_DESCRIBE_STRUCT(line_view, (),
                      (line_id, item_id, name, unit, location, quantity, unit_price_cents,
                       list_price_cents, picked_quantity, line_total_cents, added_at, picked_at,
                       picked_by))

struct attendance_view {
  attendee party = attendee::customer;
  attendance_change action = attendance_change::joined;
  timestamp at;
  std::optional<std::string> source;
};
BOOST_DESCRIBE_STRUCT(attendance_view, (), (party, action, at, source))

struct note_view {
  ids::note note_id;
  std::string text;
  bool private_ = false;
  ids::user author_id;
  std::optional<std::string> author_name;
  timestamp added_at;
};
BOOST_DESCRIBE_STRUCT(note_view, (), (note_id, text, private_, author_id, author_name, added_at))

struct charge_view {
  ids::charge charge_id;
  cents amount_cents = 0;
  charge_reason reason = charge_reason::time_and_items;
  std::vector<split> splits;
  timestamp charged_at;
};
BOOST_DESCRIBE_STRUCT(charge_view, (), (charge_id, amount_cents, reason, splits, charged_at))

struct feedback_view {
  std::int64_t rating = 0;
  std::optional<std::string> comment;
  timestamp given_at;
};
BOOST_DESCRIBE_STRUCT(feedback_view, (), (rating, comment, given_at))

struct session_view {
  ids::session session_id;
  session_kind kind = session_kind::metered;
  session_status status = session_status::active;
  std::optional<session_outcome> outcome;
  tally::payment_status payment_status = tally::payment_status::unpaid;
  customer_ref customer;
  ids::user host_id;
  std::optional<std::string> host_name;
  std::optional<resource_ref> resource;
  std::optional<std::string> title;
  std::optional<std::string> meeting_url;
  std::optional<timestamp> started_at;
  std::optional<timestamp> ended_at;
  std::optional<timestamp> scheduled_start;
  std::optional<std::int64_t> duration_minutes;
  std::optional<cents> price_cents;
  std::vector<line_view> lines;
  cents items_total_cents = 0;
  std::vector<note_view> notes;
  std::vector<attendance_view> attendance;
  std::vector<charge_view> charges;
  cents paid_cents = 0;
  cents amount_due_cents = 0;  // charges (or the price in advance) less credited_cents
  cents credited_cents = 0;    // what credit notes on its invoice took off what it owes
  tally::version version;
  session_cost cost;
  std::optional<ids::invoice> invoice_id;
  std::optional<ids::session> order_id;
  // What was paid beyond what an ended session owes, until refunded.
  cents refund_due_cents = 0;
  std::optional<timestamp> paid_at;  // when it became paid; null while not paid
  // Appointments (null for other kinds): the windows of DOMAIN.md's rules.
  std::optional<attendee> absent_party;           // on a no-show
  std::optional<timestamp> join_opens_at;         // start allowed from
  std::optional<timestamp> no_show_allowed_from;  // a no-show may be marked from
  std::optional<timestamp> min_payable_until;     // an end before it is early_end_short
  std::optional<bool> joinable;                   // now inside the join window
  std::optional<feedback_view> feedback;
};
BOOST_DESCRIBE_STRUCT(session_view, (),
                      (session_id, kind, status, outcome, payment_status, customer, host_id,
                       host_name, resource, title, meeting_url, started_at, ended_at,
                       scheduled_start, duration_minutes, price_cents, lines, items_total_cents,
                       notes, attendance, charges, paid_cents, amount_due_cents, credited_cents,
                       version, cost, invoice_id, order_id, refund_due_cents, paid_at, absent_party,
                       join_opens_at, no_show_allowed_from, min_payable_until, joinable, feedback))

// The answer to a command on one line (adding, picking, repricing it): the
// line, what it reserved or consumed of stock, and the session after it.
struct line_answer {
  ids::line line_id;
  std::int64_t reserved = 0;
  std::int64_t consumed = 0;
  line_view line;
  session_view session;
};
BOOST_DESCRIBE_STRUCT(line_answer, (), (line_id, reserved, consumed, line, session))

struct active_session_entry {
  ids::session session_id;
  session_kind kind = session_kind::metered;
  customer_ref customer;
  ids::user host_id;
  std::optional<resource_ref> resource;
  std::optional<timestamp> started_at;
  std::int64_t line_count = 0;
  std::int64_t item_count = 0;
  cents items_total_cents = 0;
  std::optional<std::string> host_name;
  std::optional<std::string> title;
  std::vector<line_view> lines;  // the session card's consumptions
};
BOOST_DESCRIBE_STRUCT(active_session_entry, (),
                      (session_id, kind, customer, host_id, resource, started_at, line_count,
                       item_count, items_total_cents, host_name, title, lines))

// A line on the pick list (also the `line` of picklist.* feed messages).
struct pick_line_view {
  ids::session session_id;
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::string location;
  std::int64_t quantity = 0;
  std::int64_t picked_quantity = 0;
  std::int64_t remaining = 0;
  std::optional<timestamp> added_at;  // (a feed message of an older pick may not know it)
  std::optional<timestamp> picked_at;
  std::optional<user_ref> picked_by;
};
BOOST_DESCRIBE_STRUCT(pick_line_view, (),
                      (session_id, line_id, item_id, name, location, quantity, picked_quantity,
                       remaining, added_at, picked_at, picked_by))

struct pick_session_view {
  ids::session session_id;
  std::string customer_name;
  ids::user host_id;
  std::optional<std::string> host_name;  // the salesperson's, where known ("Acme Corp (John)")
  session_status status = session_status::active;
  std::vector<pick_line_view> lines;
};
BOOST_DESCRIBE_STRUCT(pick_session_view, (),
                      (session_id, customer_name, host_id, host_name, status, lines))

struct customer_view {
  ids::customer customer_id;
  std::string name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  bool subscribed = false;
  bool active = true;
  std::int64_t total_sessions = 0;
  cents total_paid_cents = 0;
  timestamp registered_at;
  tally::version version;
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<postal_address> address;
};
BOOST_DESCRIBE_STRUCT(customer_view, (),
                      (customer_id, name, email, phone, subscribed, active, total_sessions,
                       total_paid_cents, registered_at, version, given_name, family_name, address))

struct resource_view {
  ids::resource resource_id;
  std::string name;
  cents hourly_rate_cents = 0;
  std::optional<ids::session> occupied_by;
  tally::version version;
};
BOOST_DESCRIBE_STRUCT(resource_view, (),
                      (resource_id, name, hourly_rate_cents, occupied_by, version))

struct item_view {
  ids::item item_id;
  std::string name;
  std::string unit;
  cents unit_price_cents = 0;
  std::string location;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::int64_t available = 0;
  tally::version version;
};
BOOST_DESCRIBE_STRUCT(item_view, (),
                      (item_id, name, unit, unit_price_cents, location, on_hand, reserved,
                       available, version))

struct webhook_view {
  ids::webhook webhook_id;
  std::string url;
  std::vector<std::string> event_types;  // empty: every type
  std::optional<std::string> description;
  bool active = true;
  timestamp created_at;
  std::optional<timestamp> removed_at;
  tally::version version;
};
BOOST_DESCRIBE_STRUCT(webhook_view, (),
                      (webhook_id, url, event_types, description, active, created_at, removed_at,
                       version))

struct invoice_view {
  ids::invoice invoice_id;
  std::string number;
  invoice_kind kind = invoice_kind::invoice;
  std::optional<ids::session> session_id;
  ids::customer customer_id;
  std::string customer_name;
  std::optional<ids::invoice> credits;
  std::vector<invoice_line> lines;
  cents total_cents = 0;
  cents paid_cents = 0;
  // Invoices (0 on a credit note): what credit notes took off it, what it
  // owes after those that reduce what is owed (DOMAIN.md), and what it took
  // beyond that.
  cents credited_cents = 0;
  cents amount_due_cents = 0;
  cents refund_due_cents = 0;
  std::string currency;
  timestamp issued_at;
  tally::version version;
  // An invoice's (a session's invoice shows its session's); null on a credit note.
  std::optional<tally::payment_status> payment_status;
};
BOOST_DESCRIBE_STRUCT(invoice_view, (),
                      (invoice_id, number, kind, session_id, customer_id, customer_name, credits,
                       lines, total_cents, paid_cents, credited_cents, amount_due_cents,
                       refund_due_cents, currency, issued_at, version, payment_status))

struct settings_view {
  std::string currency;
  std::int64_t join_window_minutes = 0;
  std::int64_t no_show_wait_percent = 0;
  std::int64_t no_show_fee_percent = 0;
  std::int64_t min_payable_percent = 0;
  std::int64_t platform_fee_percent = 0;
  std::int64_t shopping_timeout_minutes = 0;
  std::string timezone;
  std::variant<std::string, std::vector<std::string>> live_shopping;
  tally::version version;
};
BOOST_DESCRIBE_STRUCT(settings_view, (),
                      (currency, join_window_minutes, no_show_wait_percent, no_show_fee_percent,
                       min_payable_percent, platform_fee_percent, shopping_timeout_minutes,
                       timezone, live_shopping, version))

struct view_options {
  bool include_private_notes = true;
  // The tenant's, for an appointment's windows; the defaults when null.
  const tenant_settings* settings = nullptr;
};

session_view render(const session_state& s, timestamp now, view_options opts = {});
// The time session lists are ordered by: an appointment's scheduled start
// (its request, while it has none), another session's start.
timestamp list_time(const session_state& s);
line_view render(const line_state& l);
active_session_entry render_entry(const session_state& s);
// The session's lines still to pick, if it belongs on the pick list: a
// shopping session, active or completed, with something left to pick; with
// `include_picked`, its fully picked lines too while it is active.
std::optional<pick_session_view> render_picks(const session_state& s, bool include_picked = false);
pick_line_view render_pick(const session_state& s, const line_state& l);
customer_view render(const customer_state& c);
resource_view render(const resource_state& r);
item_view render(const item_state& i);
invoice_view render(const invoice_state& i);
webhook_view render(const webhook_state& w);
settings_view render(const tenant_state& t);

}  // namespace tally
