#pragma once

// Tenants' local days: an IANA time zone from the system's tz database
// (Debian's tzdata, read through Howard Hinnant's date library, which
// g++ 12's <chrono> lacks). The date headers stay in zone.cc.

#include "base/time.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tally {

// A calendar date, counted as days since 1970-01-01 (no time zone of its own).
using local_day = std::chrono::sys_days;

class zone {
 public:
  // The zone of that IANA name ("Europe/Berlin"), or nullopt if the tz
  // database has none.
  static std::optional<zone> find(std::string_view name);
  static zone utc();

  // The local date of an instant.
  [[nodiscard]] local_day day_of(timestamp t) const;
  // The first instant of a local date (the end of a daylight-saving gap
  // where midnight does not exist).
  [[nodiscard]] timestamp start_of(local_day d) const;

 private:
  explicit zone(const void* z) : zone_(z) {}
  const void* zone_;  // a date::time_zone from the database, which lives as long as the process
};

// "2026-11-30"
std::string format_day(local_day d);
std::optional<local_day> parse_day(std::string_view text);

}  // namespace tally
