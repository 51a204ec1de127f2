#pragma once

// The state of every aggregate, as `evolve` builds it from events. The write
// side (commands/) decides against it; the read side (projections/) keeps its
// own copy, built by the same `evolve`, and renders it (views.h). Stored as
// JSON, so every field is described.

#include "base/time.h"
#include "domain/events.h"
#include "domain/ids.h"
#include "domain/settings.h"

#include <boost/describe.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tally {

struct tenant_state {
  tenant_settings settings;
  std::int64_t invoice_sequence = 0;      // the last INV- number issued
  std::int64_t credit_note_sequence = 0;  // the last CN- number issued
  tally::version version;
  // The hash of the tenant's last event (docs/audit.md); empty before any
  // hashed event. Not part of the settings' version.
  std::string chain_head;
};
BOOST_DESCRIBE_STRUCT(tenant_state, (),
                      (settings, invoice_sequence, credit_note_sequence, version, chain_head))

struct customer_state {
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
BOOST_DESCRIBE_STRUCT(customer_state, (),
                      (customer_id, name, email, phone, subscribed, active, total_sessions,
                       total_paid_cents, registered_at, version, given_name, family_name, address))

// Which customer holds an e-mail address (unique within a tenant).
struct email_index_state {
  ids::customer customer_id;
};
BOOST_DESCRIBE_STRUCT(email_index_state, (), (customer_id))

struct resource_state {
  ids::resource resource_id;
  std::string name;
  cents hourly_rate_cents = 0;
  std::optional<ids::session> occupied_by;
  tally::version version;
};
BOOST_DESCRIBE_STRUCT(resource_state, (),
                      (resource_id, name, hourly_rate_cents, occupied_by, version))

// A shopping line's hold on an item's stock: one node of the item's list of
// holds, oldest first (a write-down takes stock back from the newest). Each
// node is stored under its own key (keys::reservation), linked to its
// neighbours, so that adding or releasing a hold writes that node and at most
// its two neighbours and the item, however many sessions hold the item.
struct reservation_state {
  ids::session session_id;
  ids::line line_id;
  std::int64_t quantity = 0;
  std::optional<ids::line> older;  // the previous hold, towards the oldest
  std::optional<ids::line> newer;  // the next hold, towards the newest
  std::int64_t picked = 0;         // of `quantity`, picked into a bag: never taken back
};
BOOST_DESCRIBE_STRUCT(reservation_state, (), (session_id, line_id, quantity, older, newer, picked))

struct item_state {
  ids::item item_id;
  std::string name;
  std::string unit;
  cents unit_price_cents = 0;
  std::string location;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;                    // the sum of the holds' quantities
  std::optional<ids::line> oldest_reservation;  // ends of the list of holds
  std::optional<ids::line> newest_reservation;
  tally::version version;
  std::int64_t picked = 0;  // the sum of the holds' picked units (in bags, not yet consumed)
  [[nodiscard]] std::int64_t available() const { return on_hand - reserved; }
};
BOOST_DESCRIBE_STRUCT(item_state, (),
                      (item_id, name, unit, unit_price_cents, location, on_hand, reserved,
                       oldest_reservation, newest_reservation, version, picked))

struct line_state {
  ids::line line_id;
  ids::item item_id;
  std::string name;
  std::string unit;
  std::string location;
  std::int64_t quantity = 0;
  cents unit_price_cents = 0;
  cents list_price_cents = 0;
  std::int64_t picked_quantity = 0;
  stock_effect effect = stock_effect::consumed;
  timestamp added_at;
  std::optional<timestamp> picked_at;  // the last pick
  std::optional<ids::user> picked_by;
  std::optional<std::string> picked_by_name;
};
BOOST_DESCRIBE_STRUCT(line_state, (),
                      (line_id, item_id, name, unit, location, quantity, unit_price_cents,
                       list_price_cents, picked_quantity, effect, added_at, picked_at, picked_by,
                       picked_by_name))

struct note_state {
  ids::note note_id;
  std::string text;
  bool private_ = false;
  ids::user author_id;
  std::optional<std::string> author_name;
  timestamp added_at;
};
BOOST_DESCRIBE_STRUCT(note_state, (), (note_id, text, private_, author_id, author_name, added_at))

struct attendance_entry {
  attendee party = attendee::customer;
  attendance_change action = attendance_change::joined;
  timestamp at;
  std::optional<std::string> source;
  // When it was recorded (its event's time): a record is bounded when its
  // `at` lies between the request and that (domain/appointment.h).
  std::optional<timestamp> recorded_at;
};
BOOST_DESCRIBE_STRUCT(attendance_entry, (), (party, action, at, source, recorded_at))

struct charge_state {
  ids::charge charge_id;
  cents amount_cents = 0;
  charge_reason reason = charge_reason::time_and_items;
  std::vector<split> splits;
  timestamp charged_at;
};
BOOST_DESCRIBE_STRUCT(charge_state, (), (charge_id, amount_cents, reason, splits, charged_at))

// The customer's rating of an ended session.
struct feedback_state {
  std::int64_t rating = 0;
  std::optional<std::string> comment;
  timestamp given_at;
};
BOOST_DESCRIBE_STRUCT(feedback_state, (), (rating, comment, given_at))

// What a session costs, at its end or as if it ended now.
struct session_cost {
  std::int64_t billed_minutes = 0;
  cents time_charge_cents = 0;
  cents items_total_cents = 0;
  cents total_cents = 0;
};
BOOST_DESCRIBE_STRUCT(session_cost, (),
                      (billed_minutes, time_charge_cents, items_total_cents, total_cents))

struct session_state {
  ids::session session_id;
  session_kind kind = session_kind::metered;
  session_status status = session_status::active;
  std::optional<session_outcome> outcome;
  customer_ref customer;
  ids::user host_id;
  std::optional<std::string> host_name;
  std::optional<resource_ref> resource;
  std::optional<std::string> title;
  std::optional<std::string> meeting_url;
  std::optional<timestamp> started_at;
  std::optional<timestamp> ended_at;
  std::optional<std::string> end_reason;  // SessionEnded's reason ("customer absent", …)
  std::optional<timestamp> scheduled_start;
  std::optional<std::int64_t> duration_minutes;
  std::optional<cents> price_cents;
  std::optional<std::string> requested_via;
  std::vector<line_state> lines;
  std::int64_t line_sequence = 0;
  std::vector<note_state> notes;
  std::vector<attendance_entry> attendance;
  std::vector<charge_state> charges;
  cents payments_cents = 0;  // every payment recorded
  cents refunds_cents = 0;   // every refund recorded
  // What credit notes on its current invoice took off what it owes (only
  // those that reduce it); a new invoice starts again from 0.
  cents credited_cents = 0;
  std::optional<session_cost> final_cost;  // fixed when the session ends
  std::optional<ids::invoice> invoice_id;
  std::optional<ids::session> order_id;
  timestamp last_activity;
  timestamp listed_at;  // when it was requested or started: the order of session lists
  tally::version version;
  std::optional<attendee> absent_party;  // on a no-show
  std::optional<timestamp> paid_at;      // when it last became paid; null while not paid
  std::optional<feedback_state> feedback;

  [[nodiscard]] cents paid_cents() const { return payments_cents - refunds_cents; }
  [[nodiscard]] std::optional<timestamp> scheduled_end() const {
    if (!scheduled_start || !duration_minutes) return std::nullopt;
    return *scheduled_start + std::chrono::minutes(*duration_minutes);
  }
  [[nodiscard]] const line_state* find_line(const ids::line& id) const;
  // The session's own note: from its request or start, or set by PATCH
  // (ids "<session>-request", "-start", "-details"); the notes field PATCH
  // changes.
  [[nodiscard]] const note_state* own_note() const;
  [[nodiscard]] note_state* own_note();
};
BOOST_DESCRIBE_STRUCT(session_state, (),
                      (session_id, kind, status, outcome, customer, host_id, host_name, resource,
                       title, meeting_url, started_at, ended_at, end_reason, scheduled_start,
                       duration_minutes, price_cents, requested_via, lines, line_sequence, notes,
                       attendance, charges, payments_cents, refunds_cents, credited_cents,
                       final_cost, invoice_id, order_id, last_activity, listed_at, version,
                       absent_party, paid_at, feedback))

struct webhook_state {
  ids::webhook webhook_id;
  std::string url;
  std::vector<std::string> event_types;
  std::optional<std::string> description;
  bool active = true;
  timestamp created_at;
  std::optional<timestamp> removed_at;
  tally::version version;
};
BOOST_DESCRIBE_STRUCT(webhook_state, (),
                      (webhook_id, url, event_types, description, active, created_at, removed_at,
                       version))

struct invoice_state {
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
  cents credited_cents = 0;  // every credit note against this invoice: what is left to credit
  // The credit notes that reduce what it owes (every one since they do;
  // older ones do not): amount_due_cents is total_cents less this.
  cents credit_applied_cents = 0;
  std::optional<std::string> reason;  // a credit note's
  std::string currency;
  timestamp issued_at;
  tally::version version;
  // A session's invoice shows its session's payments: paid_cents and this
  // follow the session (evolve keeps them in step).
  tally::payment_status payment_status = tally::payment_status::unpaid;
};
BOOST_DESCRIBE_STRUCT(invoice_state, (),
                      (invoice_id, number, kind, session_id, customer_id, customer_name, credits,
                       lines, total_cents, paid_cents, credited_cents, credit_applied_cents, reason,
                       currency, issued_at, version, payment_status))

using aggregate =
    std::variant<tenant_state, customer_state, email_index_state, resource_state, item_state,
                 session_state, invoice_state, reservation_state, webhook_state>;

// Keys of the aggregates within a tenant: the stream name where there is one.
namespace keys {
inline constexpr std::string_view tenant = "tenant";
std::string customer(const ids::customer& id);
std::string email(std::string_view address);  // case-insensitive
std::string resource(const ids::resource& id);
std::string item(const ids::item& id);
std::string reservation(const ids::item& item, const ids::line& line);
std::string session(const ids::session& id);
std::string invoice(const ids::invoice& id);
std::string webhook(const ids::webhook& id);
}  // namespace keys

// Read access to one tenant's aggregates, by key. The write model and the
// projector implement it over RocksDB; memory_state (below) for tests and
// time travel.
class state_reader {
 public:
  virtual ~state_reader() = default;
  [[nodiscard]] virtual const aggregate* find(std::string_view key) const = 0;

  template <class T>
  [[nodiscard]] const T* find_as(std::string_view key) const {
    const aggregate* a = find(key);
    return a ? std::get_if<T>(a) : nullptr;
  }
  [[nodiscard]] const tenant_state& tenant() const;
  [[nodiscard]] const customer_state* customer(const ids::customer& id) const {
    return find_as<customer_state>(keys::customer(id));
  }
  [[nodiscard]] const resource_state* resource(const ids::resource& id) const {
    return find_as<resource_state>(keys::resource(id));
  }
  [[nodiscard]] const item_state* item(const ids::item& id) const {
    return find_as<item_state>(keys::item(id));
  }
  [[nodiscard]] const reservation_state* reservation(const ids::item& item,
                                                     const ids::line& line) const {
    return find_as<reservation_state>(keys::reservation(item, line));
  }
  [[nodiscard]] const session_state* session(const ids::session& id) const {
    return find_as<session_state>(keys::session(id));
  }
  [[nodiscard]] const invoice_state* invoice(const ids::invoice& id) const {
    return find_as<invoice_state>(keys::invoice(id));
  }
};

// Write access, for evolve.
class state_access : public state_reader {
 public:
  // The aggregate under `key`, or nullptr.
  [[nodiscard]] virtual aggregate* find_mut(std::string_view key) = 0;
  virtual aggregate& put(std::string_view key, aggregate value) = 0;
  virtual void erase(std::string_view key) = 0;

  template <class T>
  T* find_mut_as(std::string_view key) {
    aggregate* a = find_mut(key);
    return a ? std::get_if<T>(a) : nullptr;
  }
};

}  // namespace tally
