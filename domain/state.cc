#include "domain/state.h"

#include <algorithm>
#include <cctype>

namespace tally {

namespace keys {
std::string customer(const ids::customer& id) { return stream_id::of(id).str(); }
std::string email(std::string_view address) {
  std::string out = "email-";
  for (char c : address) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string resource(const ids::resource& id) { return stream_id::of(id).str(); }
std::string item(const ids::item& id) { return stream_id::of(id).str(); }
std::string reservation(const ids::item& item, const ids::line& line) {
  return "reservation-" + item.value + "/" + line.value;
}
std::string session(const ids::session& id) { return stream_id::of(id).str(); }
std::string invoice(const ids::invoice& id) { return stream_id::of(id).str(); }
std::string webhook(const ids::webhook& id) { return stream_id::of(id).str(); }
}  // namespace keys

const tenant_state& state_reader::tenant() const {
  static const tenant_state defaults{};
  const auto* t = find_as<tenant_state>(keys::tenant);
  return t ? *t : defaults;
}

const line_state* session_state::find_line(const ids::line& id) const {
  auto it = std::find_if(lines.begin(), lines.end(),
                         [&](const line_state& l) { return l.line_id == id; });
  return it == lines.end() ? nullptr : &*it;
}

}  // namespace tally
