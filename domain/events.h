#pragma once

// The facts of Tally. Names and fields are the contract with every consumer
// of the event stream (API.md, "Events on the wire"): add fields, never change
// or remove one; to change a meaning, add a new type. Each payload carries
// what a consumer needs without asking anyone (names, prices, locations as
// they were at that moment).

#include "base/time.h"
#include "domain/events/catalog.h"
#include "domain/events/money.h"
#include "domain/events/sessions.h"
#include "domain/events/values.h"
#include "domain/ids.h"
#include "domain/stream_id.h"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tally {

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
