#pragma once

// The events of the tenant, its customers, resources, items and stock, and
// its webhooks. Part of domain/events.h.

#include "domain/events/values.h"
#include "domain/settings.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

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
  // Since the client form (seed 003): absent on older events.
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<postal_address> address;
};
BOOST_DESCRIBE_STRUCT(customer_registered, (),
                      (customer_id, name, email, phone, subscribed, given_name, family_name,
                       address))

struct customer_updated {
  static constexpr std::string_view type = "CustomerUpdated";
  ids::customer customer_id;
  std::string name;  // the customer after the change
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> previous_email;
  // The customer after the change; absent on older events, which changed
  // none of them.
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<postal_address> address;
};
BOOST_DESCRIBE_STRUCT(customer_updated, (),
                      (customer_id, name, email, phone, previous_email, given_name, family_name,
                       address))

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

}  // namespace tally
