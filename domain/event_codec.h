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
// skipped (newer writers); an unknown type gives std::nullopt. Whatever
// encode_cloud_event wrote of an event hash_to_append took reads back to
// the same value (tests/domain/event_codec_test.cc proves it for every
// type). `why`, if given, says what could not be read.
std::optional<event> decode_cloud_event(std::string_view json, std::string* why = nullptr);

// The tenant a CloudEvent names, from its "tenant" member, found even in a
// text too damaged to read as an event; nothing if it cannot be told.
std::optional<ids::tenant> tenant_named_in(std::string_view json);

}  // namespace tally
