#pragma once

// The web console's static files (console/), compiled in: no CDN, nothing
// read from disk at run time (gateway/CMakeLists.txt generates them).

#include <cstddef>
#include <span>
#include <string_view>

namespace tally::gateway {

struct console_file {
  std::string_view name;  // "app.js"
  std::string_view content_type;
  std::string_view body;
};

std::span<const console_file> console_files();

}  // namespace tally::gateway
