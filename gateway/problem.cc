#include "gateway/problem.h"

#include <boost/json.hpp>

#include <strings.h>

namespace tally::gateway {

std::string_view http_request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

bool http_request::has_header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return true;
  return false;
}

int http_status(errc code) {
  switch (code) {
    case errc::invalid_request:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::forbidden:
    case errc::feature_disabled:
      return 403;
    case errc::not_found:
      return 404;
    case errc::method_not_allowed:
      return 405;
    case errc::payload_too_large:
      return 413;
    case errc::unsupported_media_type:
      return 415;
    case errc::insufficient_stock:
    case errc::resource_occupied:
    case errc::invalid_state:
    case errc::already_invoiced:
    case errc::already_exists:
    case errc::attended:
    case errc::nothing_due:
    case errc::stock_picked:
    case errc::credit_exceeds_invoice:
    case errc::request_in_progress:
    case errc::wrong_kind:
    case errc::overpayment:
      return 409;
    case errc::version_conflict:
      return 412;
    case errc::empty_cart:
    case errc::amount_too_large:
    case errc::too_early:
    case errc::too_late:
    case errc::idempotency_key_reused:
      return 422;
    case errc::unavailable:
    case errc::outcome_unknown:
    case errc::projection_lagging:
      return 503;
    case errc::not_implemented:
      return 501;
    case errc::internal:
      return 500;
  }
  return 500;
}

namespace {
std::string_view title(errc code) {
  switch (code) {
    case errc::invalid_request:
      return "The request is not valid";
    case errc::unauthorized:
      return "Authentication is required";
    case errc::forbidden:
      return "This role may not do that";
    case errc::feature_disabled:
      return "The feature is not enabled for you";
    case errc::not_found:
      return "Not found";
    case errc::method_not_allowed:
      return "Method not allowed";
    case errc::payload_too_large:
      return "The body is too large";
    case errc::unsupported_media_type:
      return "The body is not JSON";
    case errc::insufficient_stock:
      return "Not enough stock";
    case errc::resource_occupied:
      return "The resource is occupied";
    case errc::invalid_state:
      return "The session is not in a state that allows this";
    case errc::already_invoiced:
      return "Already invoiced";
    case errc::already_exists:
      return "Already exists";
    case errc::attended:
      return "The attendance shows a join";
    case errc::nothing_due:
      return "Nothing is due";
    case errc::stock_picked:
      return "The stock is picked";
    case errc::credit_exceeds_invoice:
      return "The credit exceeds what is left to credit";
    case errc::empty_cart:
      return "The cart is empty";
    case errc::wrong_kind:
      return "The session's kind does not take this";
    case errc::overpayment:
      return "The payment is more than is left to pay";
    case errc::amount_too_large:
      return "An amount is too large";
    case errc::too_early:
      return "Too early";
    case errc::too_late:
      return "Too late";
    case errc::idempotency_key_reused:
      return "The Idempotency-Key was used for another request";
    case errc::request_in_progress:
      return "A request with this Idempotency-Key is in progress";
    case errc::version_conflict:
      return "The version does not match";
    case errc::unavailable:
      return "Unavailable";
    case errc::outcome_unknown:
      return "The outcome is unknown";
    case errc::projection_lagging:
      return "The read models have not caught up";
    case errc::not_implemented:
      return "Not implemented";
    case errc::internal:
      return "Internal error";
  }
  return "Error";
}
}  // namespace

http_response problem_response(const error& e) {
  const int status = http_status(e.code);
  boost::json::object o;
  o["type"] = "urn:tally:problem:" + std::string(code_name(e.code));
  o["title"] = title(e.code);
  o["status"] = status;
  o["code"] = code_name(e.code);
  o["detail"] = e.detail.empty() ? std::string(title(e.code)) : e.detail;
  // A body with thousands of faults must not be answered with a larger one.
  boost::json::array errors;
  for (const auto& f : e.fields) {
    if (errors.size() == max_problem_errors) break;
    errors.push_back(boost::json::object{{"field", f.field}, {"message", f.message}});
  }
  o["errors"] = std::move(errors);
  if (e.fields.size() > max_problem_errors)
    o["errors_omitted"] = e.fields.size() - max_problem_errors;
  http_response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = boost::json::serialize(o);
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace tally::gateway
