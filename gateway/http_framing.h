#pragma once

// What makes a request's framing untrustworthy (RFC 9112 §3.2, §6.1, §6.3),
// without Beast: the server (http_server.cc) asks after it has read a
// request, and answers a problem with the connection closed, so that bytes it
// did not read as this request's body are never read as another request.

#include "domain/error.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tally::gateway {

using header_list = std::vector<std::pair<std::string, std::string>>;

// `version` as Beast has it (11 for HTTP/1.1). nullopt: the framing is sound.
// - a transfer coding other than chunked → errc::not_implemented (501);
// - chunked more than once, Transfer-Encoding in HTTP/1.0, or with
//   Content-Length → errc::invalid_request (400);
// - HTTP/1.1 without exactly one Host → errc::invalid_request (400).
std::optional<error> framing_problem(unsigned version, const header_list& headers);

}  // namespace tally::gateway
