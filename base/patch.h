#pragma once

// A member of a PATCH body (RFC 7396, JSON merge patch): absent (leave it as
// it is), null (clear it) or a value (set it). base/json.h reads and writes
// it; std::optional cannot tell the first two apart.

#include <optional>
#include <type_traits>
#include <utility>

namespace tally::json {

template <class T>
struct patch {
  bool present = false;    // the member was in the body
  std::optional<T> value;  // present and none: null, clear it
  static patch to(T v) { return patch{true, std::move(v)}; }
  static patch null() { return patch{true, std::nullopt}; }
  [[nodiscard]] bool clears() const { return present && !value; }
  [[nodiscard]] bool sets() const { return present && value.has_value(); }
};

template <class T>
struct is_patch : std::false_type {};
template <class T>
struct is_patch<patch<T>> : std::true_type {};

}  // namespace tally::json
