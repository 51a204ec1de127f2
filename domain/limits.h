#pragma once

// The bounds on what a client may send, so that nothing a client sends can
// make the log unreadable or a sum overflow (API.md, General; docs/domain.md,
// "Bounds"). One money bound for every amount and every total a command
// would produce; quantities per line; times a client gives; text lengths in
// characters.

#include "base/time.h"
#include "domain/error.h"
#include "domain/ids.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace tally {

// Every amount and every total a command would produce (a line, an
// invoice, a session's charges or payments, a customer's lifetime): at most
// this many cents. A thousand such totals still sum exactly in a double, and
// nine million in an int64, which is what the read side sums in.
inline constexpr cents max_amount_cents = 1'000'000'000'000;
// Units on one line, received or adjusted at once.
inline constexpr std::int64_t max_quantity = 1'000'000;
// Lines on one invoice or credit note.
inline constexpr std::size_t max_invoice_lines = 500;

// Times a client gives (a booking's start, attendance, as_of, from/to): in
// [earliest_client_time, latest_client_time).
inline constexpr timestamp earliest_client_time{std::chrono::milliseconds(946'684'800'000)};
inline constexpr timestamp latest_client_time{std::chrono::milliseconds(4'102'444'800'000)};
[[nodiscard]] constexpr bool client_time_in_range(timestamp t) {
  return t >= earliest_client_time && t < latest_client_time;
}
inline constexpr std::string_view client_time_range = "between 2000-01-01 and 2100-01-01";

// Names, titles, reasons; notes and comments: in characters (code points),
// not bytes, so that a Japanese title gets the same room as an English one.
inline constexpr std::size_t max_name = 200;
inline constexpr std::size_t max_text = 4000;
// A user id (a token's sub, a host id): bytes, as ids are compared.
inline constexpr std::size_t max_user_id = 255;

// The characters of valid UTF-8 `s` (its code points).
[[nodiscard]] inline std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// 422 amount_too_large naming `field` (API.md): an amount or a total past
// max_amount_cents.
[[nodiscard]] error amount_too_large(std::string field, std::string_view what, cents amount);

// Whether `total` plus `more` stays within the money bound (both ≥ 0).
[[nodiscard]] inline bool within_money_bound(cents total, cents more = 0) {
  return total >= 0 && more >= 0 && total <= max_amount_cents && more <= max_amount_cents - total;
}

}  // namespace tally
