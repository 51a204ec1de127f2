#include "base/json_schema.h"

#include <cctype>

namespace tally::json {

std::string schema_registry::default_name(std::string_view full) {
  // "tally::session_view" -> "Session"; "tally::x::pick_line_view" -> "PickLine".
  if (const auto colon = full.rfind("::"); colon != std::string_view::npos)
    full.remove_prefix(colon + 2);
  for (std::string_view suffix : {"_view", "_entry"})
    if (full.size() > suffix.size() && full.ends_with(suffix)) full.remove_suffix(suffix.size());
  std::string out;
  bool upper = true;
  for (char c : full) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

}  // namespace tally::json
