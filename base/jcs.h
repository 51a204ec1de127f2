#pragma once

// The JSON Canonicalization Scheme (RFC 8785): one byte sequence per JSON
// value, so that anyone can hash an event and get the server's hash with a
// JCS library of their own (docs/audit.md). Object members sorted by the
// UTF-16 code units of their names, no whitespace, strings with the fewest
// escapes, numbers as ECMAScript writes them.

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace tally {

[[nodiscard]] std::string canonical_json(const boost::json::value& v);

// canonical_json of an I-JSON value (RFC 7493), the only kind RFC 8785 is
// defined for and the only kind a reader of Tally's events takes: strings of
// valid UTF-8, integers within ±(2^53-1). For another value, nothing, and
// `problem` names the first value that is not I-JSON by its path
// ("data.name: is not valid UTF-8"). Costs one pass of UTF-8 validation
// over the text beyond canonical_json; only a failure walks `v` again.
[[nodiscard]] std::optional<std::string> canonical_i_json(const boost::json::value& v,
                                                          std::string& problem);

}  // namespace tally
