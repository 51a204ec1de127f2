#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally {

// Every time in Tally: UTC, millisecond precision.
using timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// "2026-11-22T10:00:00.000Z"
std::string format_rfc3339(timestamp t);
// Accepts RFC 3339 with 'Z' or a numeric offset, with or without fractional seconds.
std::optional<timestamp> parse_rfc3339(std::string_view text);

inline timestamp from_millis(std::int64_t ms) { return timestamp{std::chrono::milliseconds{ms}}; }
inline std::int64_t to_millis(timestamp t) { return t.time_since_epoch().count(); }

}  // namespace tally
