#pragma once

#include "domain/state.h"

#include <optional>
#include <string>
#include <string_view>

namespace tally {

// Aggregates as the stores keep them: JSON, the type told by the key
// ("session-…" is a session_state). Shared by the write model and the read
// models, which keep the same state.
std::optional<aggregate> decode_aggregate(std::string_view key, std::string_view json);
std::string encode_aggregate(const aggregate& a);
version version_of(const aggregate* a);

}  // namespace tally
