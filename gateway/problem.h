#pragma once

#include "domain/error.h"
#include "gateway/http_types.h"

namespace tally::gateway {

// The one place where an error becomes HTTP: status and RFC 9457
// application/problem+json body.
int http_status(errc code);
// At most this many `errors` are listed; `errors_omitted` counts the rest.
inline constexpr std::size_t max_problem_errors = 50;
http_response problem_response(const error& e);

}  // namespace tally::gateway
