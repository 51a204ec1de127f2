#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tally {

// Every expected failure of Tally, one stable code each (API.md). The HTTP
// status of each is decided at the edge, in gateway/problem.cc, and nowhere else.
enum class errc {
  invalid_request,
  unauthorized,
  forbidden,
  feature_disabled,  // a feature the tenant's rollout settings keep from this user
  not_found,
  method_not_allowed,
  payload_too_large,
  unsupported_media_type,  // a body that is not application/json (415)
  insufficient_stock,
  resource_occupied,
  invalid_state,
  already_invoiced,
  already_exists,
  attended,      // a no-show of someone whose attendance shows a join
  nothing_due,   // a payment on a session that owes nothing (cancelled, host absent)
  stock_picked,  // a write-down below the units picked into bags
  credit_exceeds_invoice,
  empty_cart,
  overpayment,       // a payment beyond what is left to pay
  wrong_kind,        // a command the session's kind does not take (items on an appointment)
  amount_too_large,  // an amount or a total past the money bound (limits.h)
  too_early,
  too_late,
  idempotency_key_reused,
  request_in_progress,
  version_conflict,
  unavailable,
  outcome_unknown,
  projection_lagging,
  not_implemented,  // a transfer coding the server does not implement (501)
  internal,
};

std::string_view code_name(errc code);
// The code whose code_name is `name`, if any.
std::optional<errc> code_named(std::string_view name);

struct field_problem {
  std::string field;
  std::string message;
  friend bool operator==(const field_problem&, const field_problem&) = default;
};

struct error {
  errc code = errc::internal;
  std::string detail;
  std::vector<field_problem> fields;
};

inline error make_error(errc code, std::string detail) {
  return error{code, std::move(detail), {}};
}
inline error invalid_field(std::string field, std::string message) {
  std::string detail = field + " " + message;
  return error{errc::invalid_request, std::move(detail), {{std::move(field), std::move(message)}}};
}

// A value or an error. Small on purpose: std::expected is not available to
// clang 14 here (docs/decisions/0002-results.md).
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT
  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const error& err() const { return std::get<1>(v_); }
  error&& take_error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

struct ok_t {};
using status = result<ok_t>;
inline status ok() { return ok_t{}; }

}  // namespace tally
