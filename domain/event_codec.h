#pragma once

#include "domain/events.h"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace tally {

// The CloudEvents 1.0 structured-mode JSON of an event (API.md, "Events on
// the wire"), without the `position` attribute.
std::string encode_cloud_event(const event& e);
// The same as a JSON object (what the hash chain hashes, less `hash`).
boost::json::object cloud_event_object(const event& e);

// Reads an event back. Unknown attributes and unknown data fields are
// skipped (newer writers); an unknown type gives std::nullopt.
std::optional<event> decode_cloud_event(std::string_view json);

}  // namespace tally
