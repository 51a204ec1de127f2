#pragma once

// The JSON Canonicalization Scheme (RFC 8785): one byte sequence per JSON
// value, so that anyone can hash an event and get the server's hash with a
// JCS library of their own (docs/audit.md). Object members sorted by the
// UTF-16 code units of their names, no whitespace, strings with the fewest
// escapes, numbers as ECMAScript writes them.

#include <boost/json/value.hpp>

#include <string>

namespace tally {

[[nodiscard]] std::string canonical_json(const boost::json::value& v);

}  // namespace tally
