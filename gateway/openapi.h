#pragma once

#include <string_view>

namespace tally::gateway {

// docs/openapi.json, compiled in (gateway/CMakeLists.txt generates it).
std::string_view openapi_document();

}  // namespace tally::gateway
