#pragma once

#include <boost/describe/class.hpp>

#include <cstdint>
#include <string>

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
};
BOOST_DESCRIBE_STRUCT(tenant_settings, (),
                      (currency, join_window_minutes, no_show_wait_percent, no_show_fee_percent,
                       min_payable_percent, platform_fee_percent, shopping_timeout_minutes))

}  // namespace tally
