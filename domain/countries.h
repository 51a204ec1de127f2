#pragma once

#include <string_view>

namespace tally {

// Whether `code` is an assigned ISO 3166-1 alpha-2 country code ("DE", "JP").
[[nodiscard]] bool iso_country(std::string_view code);

}  // namespace tally
