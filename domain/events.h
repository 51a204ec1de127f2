#pragma once

// The facts of Tally. Names and fields are the contract with every consumer
// of the event stream (API.md, "Events on the wire"): add fields, never change
// or remove one; to change a meaning, add a new type. Each payload carries
// what a consumer needs without asking anyone (names, prices, locations as
// they were at that moment).

#include "base/time.h"
#include "domain/ids.h"
#include "domain/settings.h"
#include "domain/stream_id.h"

#include <boost/describe.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tally {

enum class session_kind { metered, shopping, appointment };
BOOST_DESCRIBE_ENUM(session_kind, metered, shopping, appointment)

enum class session_status { requested, quoted, booked, active, ended };
BOOST_DESCRIBE_ENUM(session_status, requested, quoted, booked, active, ended)

enum class session_outcome {
  completed,
  completed_assumed,
  no_show,
  early_end_short,
  cancelled,
  timed_out
};
BOOST_DESCRIBE_ENUM(session_outcome, completed, completed_assumed, no_show, early_end_short,
                    cancelled, timed_out)

// credited: fully credited with nothing paid (DOMAIN.md, Credit notes).
enum class payment_status { unpaid, partially_paid, paid, refunded, credited };
BOOST_DESCRIBE_ENUM(payment_status, unpaid, partially_paid, paid, refunded, credited)

enum class charge_reason { time_and_items, booked_price, no_show_fee, manual };
BOOST_DESCRIBE_ENUM(charge_reason, time_and_items, booked_price, no_show_fee, manual)

enum class party { host, platform };
BOOST_DESCRIBE_ENUM(party, host, platform)

// What adding or removing a line does to stock.
enum class stock_effect { consumed, reserved, returned, released };
BOOST_DESCRIBE_ENUM(stock_effect, consumed, reserved, returned, released)

// removed: by staff; sold_out: a write-down took it back; not_billable: an
// appointment's line (appointments take no items; an older history may hold
// one), released when the appointment ends.
enum class removal_reason { removed, sold_out, not_billable };
BOOST_DESCRIBE_ENUM(removal_reason, removed, sold_out, not_billable)

enum class invoice_kind { invoice, credit_note };
BOOST_DESCRIBE_ENUM(invoice_kind, invoice, credit_note)

// ---- shared parts -------------------------------------------------------

struct customer_ref {
  ids::customer customer_id;
  std::string name;
  bool subscribed = false;
};
BOOST_DESCRIBE_STRUCT(customer_ref, (), (customer_id, name, subscribed))

struct resource_ref {
  ids::resource resource_id;
  std::string name;
  cents hourly_rate_cents = 0;
};
BOOST_DESCRIBE_STRUCT(resource_ref, (), (resource_id, name, hourly_rate_cents))

struct split {
  tally::party party = party::platform;
  cents amount_cents = 0;
};
BOOST_DESCRIBE_STRUCT(split, (), (party, amount_cents))

struct invoice_line {
  std::string description;
  std::int64_t quantity = 0;
  cents unit_price_cents = 0;
  cents amount_cents = 0;
};
BOOST_DESCRIBE_STRUCT(invoice_line, (), (description, quantity, unit_price_cents, amount_cents))

// ---- tenant -------------------------------------------------------------

struct tenant_settings_changed {
  static constexpr std::string_view type = "TenantSettingsChanged";
  tenant_settings settings;          // all settings after the change
  std::vector<std::string> changed;  // names of the settings that changed
};
BOOST_DESCRIBE_STRUCT(tenant_settings_changed, (), (settings, changed))

// ---- customers ----------------------------------------------------------

struct customer_registered {
  static constexpr std::string_view type = "CustomerRegistered";
  ids::customer customer_id;
  std::string name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  bool subscribed = false;
};
BOOST_DESCRIBE_STRUCT(customer_registered, (), (customer_id, name, email, phone, subscribed))

struct customer_updated {
  static constexpr std::string_view type = "CustomerUpdated";
  ids::customer customer_id;
  std::string name;  // the customer after the change
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> previous_email;
};
BOOST_DESCRIBE_STRUCT(customer_updated, (), (customer_id, name, email, phone, previous_email))

struct customer_deactivated {
  static constexpr std::string_view type = "CustomerDeactivated";
  ids::customer customer_id;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(customer_deactivated, (), (customer_id, name))

struct customer_subscription_changed {
  static constexpr std::string_view type = "CustomerSubscriptionChanged";
  ids::customer customer_id;
  std::string name;
  bool subscribed = false;
};
BOOST_DESCRIBE_STRUCT(customer_subscription_changed, (), (customer_id, name, subscribed))

// ---- resources ----------------------------------------------------------

struct resource_registered {
  static constexpr std::string_view type = "ResourceRegistered";
  ids::resource resource_id;
  std::string name;
  cents hourly_rate_cents = 0;
};
BOOST_DESCRIBE_STRUCT(resource_registered, (), (resource_id, name, hourly_rate_cents))

struct resource_rate_changed {
  static constexpr std::string_view type = "ResourceRateChanged";
  ids::resource resource_id;
  std::string name;
  cents hourly_rate_cents = 0;
  cents previous_rate_cents = 0;
};
BOOST_DESCRIBE_STRUCT(resource_rate_changed, (),
                      (resource_id, name, hourly_rate_cents, previous_rate_cents))

// ---- items and stock ----------------------------------------------------

struct item_registered {
  static constexpr std::string_view type = "ItemRegistered";
  ids::item item_id;
  std::string name;
  std::string unit;
  cents unit_price_cents = 0;
  std::string location;
};
BOOST_DESCRIBE_STRUCT(item_registered, (), (item_id, name, unit, unit_price_cents, location))

struct item_updated {
  static constexpr std::string_view type = "ItemUpdated";
  ids::item item_id;
  std::string name;
  std::string unit;
  std::string location;
};
BOOST_DESCRIBE_STRUCT(item_updated, (), (item_id, name, unit, location))

struct item_price_changed {
  static constexpr std::string_view type = "ItemPriceChanged";
  ids::item item_id;
  std::string name;
  cents unit_price_cents = 0;
  cents previous_price_cents = 0;
};
BOOST_DESCRIBE_STRUCT(item_price_changed, (),
                      (item_id, name, unit_price_cents, previous_price_cents))

struct stock_received {
  static constexpr std::string_view type = "StockReceived";
  ids::item item_id;
  std::string name;
  std::int64_t quantity = 0;
  std::int64_t on_hand = 0;  // after
};
BOOST_DESCRIBE_STRUCT(stock_received, (), (item_id, name, quantity, on_hand))

struct stock_adjusted {
  static constexpr std::string_view type = "StockAdjusted";
  ids::item item_id;
  std::string name;
  std::int64_t delta = 0;
  std::string reason;
  std::int64_t on_hand = 0;  // after
};
BOOST_DESCRIBE_STRUCT(stock_adjusted, (), (item_id, name, delta, reason, on_hand))

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

// An endpoint that receives the tenant's events (seed 001's integrations).
// Its signing secret is derived from the server's key and the id, never
// written here.
struct webhook_registered {
  static constexpr std::string_view type = "WebhookRegistered";
  ids::webhook webhook_id;
  std::string url;
  std::vector<std::string> event_types;  // empty: every type
  std::optional<std::string> description;
};
BOOST_DESCRIBE_STRUCT(webhook_registered, (), (webhook_id, url, event_types, description))

struct webhook_removed {
  static constexpr std::string_view type = "WebhookRemoved";
  ids::webhook webhook_id;
  std::string url;
};
BOOST_DESCRIBE_STRUCT(webhook_removed, (), (webhook_id, url))

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

struct charge_processed {
  static constexpr std::string_view type = "ChargeProcessed";
  ids::session session_id;
  ids::customer customer_id;
  ids::charge charge_id;
  cents amount_cents = 0;
  charge_reason reason = charge_reason::time_and_items;
  std::vector<split> splits;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(charge_processed, (),
                      (session_id, customer_id, charge_id, amount_cents, reason, splits, note))

// Recorded in a session's stream, or in a standalone invoice's.
struct payment_recorded {
  static constexpr std::string_view type = "PaymentRecorded";
  std::optional<ids::session> session_id;
  std::optional<ids::invoice> invoice_id;
  ids::customer customer_id;
  ids::payment payment_id;
  cents amount_cents = 0;
  std::string method;
  cents paid_cents = 0;  // payments minus refunds, after
  payment_status status = payment_status::unpaid;
};
BOOST_DESCRIBE_STRUCT(payment_recorded, (),
                      (session_id, invoice_id, customer_id, payment_id, amount_cents, method,
                       paid_cents, status))

struct payment_refunded {
  static constexpr std::string_view type = "PaymentRefunded";
  ids::session session_id;
  ids::customer customer_id;
  ids::payment refund_id;
  cents amount_cents = 0;
  std::string reason;
  cents paid_cents = 0;  // payments minus refunds, after
  payment_status status = payment_status::unpaid;
};
BOOST_DESCRIBE_STRUCT(payment_refunded, (),
                      (session_id, customer_id, refund_id, amount_cents, reason, paid_cents,
                       status))

// ---- invoices -----------------------------------------------------------

struct invoice_issued {
  static constexpr std::string_view type = "InvoiceIssued";
  ids::invoice invoice_id;
  std::string number;  // INV-000001
  std::int64_t sequence = 0;
  std::optional<ids::session> session_id;
  ids::customer customer_id;
  std::string customer_name;
  std::vector<invoice_line> lines;
  cents total_cents = 0;
  std::string currency;
  timestamp issued_at;
};
BOOST_DESCRIBE_STRUCT(invoice_issued, (),
                      (invoice_id, number, sequence, session_id, customer_id, customer_name, lines,
                       total_cents, currency, issued_at))

// A credit note: its own id and number (CN-000001), the invoice it corrects.
struct credit_note_issued {
  static constexpr std::string_view type = "CreditNoteIssued";
  ids::invoice invoice_id;  // the credit note's id
  std::string number;
  std::int64_t sequence = 0;
  ids::invoice credits;
  std::string credits_number;
  std::optional<ids::session> session_id;
  ids::customer customer_id;
  std::string customer_name;
  std::vector<invoice_line> lines;
  cents total_cents = 0;
  bool full = false;  // nothing is left to credit on `credits` after this
  std::string reason;
  std::string currency;
  timestamp issued_at;
  // true on every credit note issued since credit notes reduce what is owed
  // (DOMAIN.md, Credit notes and overpayment); absent on older ones, which
  // replay as they were decided: credited, without changing what is owed.
  std::optional<bool> reduces_amount_due;
};
BOOST_DESCRIBE_STRUCT(credit_note_issued, (),
                      (invoice_id, number, sequence, credits, credits_number, session_id,
                       customer_id, customer_name, lines, total_cents, full, reason, currency,
                       issued_at, reduces_amount_due))

using event_data = std::variant<
    tenant_settings_changed, customer_registered, customer_updated, customer_deactivated,
    customer_subscription_changed, resource_registered, resource_rate_changed, item_registered,
    item_updated, item_price_changed, stock_received, stock_adjusted, session_requested,
    session_quoted, session_booked, session_rescheduled, session_started, item_added, item_removed,
    price_adjusted, item_picked, note_added, session_ended, charge_processed, payment_recorded,
    payment_refunded, invoice_issued, credit_note_issued, attendance_recorded, webhook_registered,
    webhook_removed, item_reduced, session_details_changed, feedback_given>;

std::string_view type_of(const event_data& e);
// Whether `type` names an event type ("ItemAdded").
bool is_event_type(std::string_view type);
// The stream an event belongs to ("session-<id>", "item-<id>", ...).
stream_id stream_of(const ids::tenant& tenant, const event_data& e);
// The CloudEvents subject: "sessions/<id>", "items/<id>", ...
std::string subject_of(const ids::tenant& tenant, const event_data& e);

// One event as it is stored: the payload and its envelope (API.md's
// CloudEvent attributes).
struct event {
  ids::event id;
  ids::tenant tenant;
  stream_id stream;
  version stream_version;
  timestamp time;
  ids::user actor;
  std::string actor_name;
  std::string correlation_id;
  // On the last event of a command sent with an Idempotency-Key: the key and
  // the hex SHA-256 of the request (method, path, body), so that the answer
  // to a retry can be derived from the log alone.
  std::optional<std::string> idempotency_key;
  std::optional<std::string> request_digest;
  // The tenant's hash chain (docs/audit.md): the hash of the tenant's
  // previous event (64 zeros for its first), and this event's own. Empty on
  // events written before the chain existed.
  std::string prevhash;
  std::string hash;
  event_data data;
};

}  // namespace tally
