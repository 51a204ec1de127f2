#pragma once

#include <string>
#include <string_view>

namespace tally {

// The lowercase hex SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

}  // namespace tally
