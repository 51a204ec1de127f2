#pragma once

// Money summed on the read side: exact, or not at all. Every amount is at
// most 10^12 cents (domain/limits.h), so an int64 holds nine million of the
// largest; past that, a sum throws std::overflow_error instead of wrapping
// or rounding: the projector stops that tenant's read models, loudly
// (docs/operations.md), and a query that sums answers 500.

#include <cstdint>
#include <stdexcept>

namespace tally::projections {

// total += amount (either may be negative), checked.
inline void add_to(std::int64_t& total, std::int64_t amount) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(total, amount, &sum))
    throw std::overflow_error("a sum of money would overflow an int64");
  total = sum;
}

// a - b, checked.
[[nodiscard]] inline std::int64_t minus(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out))
    throw std::overflow_error("a difference of money would overflow an int64");
  return out;
}

}  // namespace tally::projections
