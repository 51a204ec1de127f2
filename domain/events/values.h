#pragma once

// The values events share: kinds, statuses and outcomes, and the parts
// several events carry (a customer, a resource, a split, an invoice line).
// Part of domain/events.h.

#include "base/time.h"
#include "domain/ids.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// A customer's postal address (DOMAIN.md, the customer row); every part is
// optional, country is an ISO 3166-1 alpha-2 code ("DE").
struct postal_address {
  std::optional<std::string> line1;
  std::optional<std::string> line2;
  std::optional<std::string> city;
  std::optional<std::string> region;
  std::optional<std::string> postal_code;
  std::optional<std::string> country;
  friend bool operator==(const postal_address&, const postal_address&) = default;
};
BOOST_DESCRIBE_STRUCT(postal_address, (), (line1, line2, city, region, postal_code, country))

}  // namespace tally
