#pragma once

#include <string_view>

namespace tally::gateway {

// docs/openapi.json, compiled in (gateway/CMakeLists.txt generates it).
std::string_view openapi_document();
// docs/asyncapi.json, compiled in the same way.
std::string_view asyncapi_document();

}  // namespace tally::gateway
