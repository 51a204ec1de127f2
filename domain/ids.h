#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace tally {

// A string id that cannot be mixed up with another kind of id.
template <class Tag>
struct named_id {
  using string_wrapper = void;
  std::string value;
  friend auto operator<=>(const named_id&, const named_id&) = default;
  [[nodiscard]] bool empty() const { return value.empty(); }
};

namespace ids {
using tenant = named_id<struct tenant_tag>;
using user = named_id<struct user_tag>;
using customer = named_id<struct customer_tag>;
using resource = named_id<struct resource_tag>;
using item = named_id<struct item_tag>;
using session = named_id<struct session_tag>;
using line = named_id<struct line_tag>;
using invoice = named_id<struct invoice_tag>;
using charge = named_id<struct charge_tag>;
using payment = named_id<struct payment_tag>;
using note = named_id<struct note_tag>;
using event = named_id<struct event_tag>;
using webhook = named_id<struct webhook_tag>;
}  // namespace ids

// The version of one aggregate: the number of events in its stream.
struct version {
  using int_wrapper = void;
  std::int64_t value = 0;
  friend auto operator<=>(const version&, const version&) = default;
};

// Money: an integer count of the tenant's minor unit. Never floating point.
using cents = std::int64_t;

}  // namespace tally
