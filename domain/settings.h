#pragma once

#include <boost/describe/class.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace tally {

// A tenant's settings (DOMAIN.md); the defaults are the ones a new tenant has.
struct tenant_settings {
  std::string currency = "USD";
  std::int64_t join_window_minutes = 5;
  std::int64_t no_show_wait_percent = 33;
  std::int64_t no_show_fee_percent = 50;
  std::int64_t min_payable_percent = 66;
  std::int64_t platform_fee_percent = 10;
  std::int64_t shopping_timeout_minutes = 30;
  // An IANA name: analytics count the tenant's local days.
  std::string timezone = "UTC";
  // Who may start shopping sessions (seed 001's rollout): "all", "off", or
  // a list of host ids.
  std::variant<std::string, std::vector<std::string>> live_shopping = std::string("all");
};
BOOST_DESCRIBE_STRUCT(tenant_settings, (),
                      (currency, join_window_minutes, no_show_wait_percent, no_show_fee_percent,
                       min_payable_percent, platform_fee_percent, shopping_timeout_minutes,
                       timezone, live_shopping))

// Whether `host` may start a shopping session under these settings.
inline bool live_shopping_allows(const tenant_settings& s, const std::string& host) {
  if (const auto* mode = std::get_if<std::string>(&s.live_shopping)) return *mode != "off";
  for (const auto& h : std::get<std::vector<std::string>>(s.live_shopping))
    if (h == host) return true;
  return false;
}

}  // namespace tally
