#pragma once

#include "domain/error.h"
#include "gateway/http_types.h"

namespace tally::gateway {

// The one place where an error becomes HTTP: status and RFC 9457
// application/problem+json body.
int http_status(errc code);
http_response problem_response(const error& e);

}  // namespace tally::gateway
