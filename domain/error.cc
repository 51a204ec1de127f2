#include "domain/error.h"

namespace tally {

std::string_view code_name(errc code) {
  switch (code) {
    case errc::invalid_request:
      return "invalid_request";
    case errc::unauthorized:
      return "unauthorized";
    case errc::forbidden:
      return "forbidden";
    case errc::feature_disabled:
      return "feature_disabled";
    case errc::not_found:
      return "not_found";
    case errc::method_not_allowed:
      return "method_not_allowed";
    case errc::payload_too_large:
      return "payload_too_large";
    case errc::unsupported_media_type:
      return "unsupported_media_type";
    case errc::insufficient_stock:
      return "insufficient_stock";
    case errc::attended:
      return "attended";
    case errc::nothing_due:
      return "nothing_due";
    case errc::stock_picked:
      return "stock_picked";
    case errc::resource_occupied:
      return "resource_occupied";
    case errc::invalid_state:
      return "invalid_state";
    case errc::already_invoiced:
      return "already_invoiced";
    case errc::already_exists:
      return "already_exists";
    case errc::credit_exceeds_invoice:
      return "credit_exceeds_invoice";
    case errc::empty_cart:
      return "empty_cart";
    case errc::wrong_kind:
      return "wrong_kind";
    case errc::overpayment:
      return "overpayment";
    case errc::amount_too_large:
      return "amount_too_large";
    case errc::too_early:
      return "too_early";
    case errc::too_late:
      return "too_late";
    case errc::idempotency_key_reused:
      return "idempotency_key_reused";
    case errc::request_in_progress:
      return "request_in_progress";
    case errc::version_conflict:
      return "version_conflict";
    case errc::unavailable:
      return "unavailable";
    case errc::outcome_unknown:
      return "outcome_unknown";
    case errc::projection_lagging:
      return "projection_lagging";
    case errc::not_implemented:
      return "not_implemented";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

std::optional<errc> code_named(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(errc::internal); ++c)
    if (code_name(static_cast<errc>(c)) == name) return static_cast<errc>(c);
  return std::nullopt;
}

}  // namespace tally
