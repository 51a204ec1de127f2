#include "base/zone.h"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>

namespace tally {

namespace {
const date::time_zone* tz(const void* z) { return static_cast<const date::time_zone*>(z); }
}  // namespace

std::optional<zone> zone::find(std::string_view name) {
  if (name.empty() || name.size() > 64) return std::nullopt;
  try {
    return zone(date::locate_zone(name));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

zone zone::utc() {
  static const date::time_zone* const z = date::locate_zone("UTC");
  return zone(z);
}

local_day zone::day_of(timestamp t) const {
  const auto local = tz(zone_)->to_local(t);
  return local_day{std::chrono::floor<std::chrono::days>(local).time_since_epoch()};
}

timestamp zone::start_of(local_day d) const {
  const date::local_days midnight{d.time_since_epoch()};
  const auto info = tz(zone_)->get_info(midnight);
  if (info.result == date::local_info::nonexistent)
    return std::chrono::time_point_cast<std::chrono::milliseconds>(info.first.end);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      tz(zone_)->to_sys(midnight, date::choose::earliest));
}

std::string format_day(local_day d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<local_day> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, dd = 0;
  auto num = [&](std::string_view part, auto& out) {
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc{} && p == part.data() + part.size();
  };
  if (!num(s.substr(0, 4), y) || !num(s.substr(5, 2), m) || !num(s.substr(8, 2), dd))
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{dd}};
  if (!ymd.ok()) return std::nullopt;
  return local_day{ymd};
}

}  // namespace tally
