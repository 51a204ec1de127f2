#include "domain/state.h"

#include <algorithm>
#include <cctype>
#include <cstring>

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

note_state* session_state::own_note() {
  for (auto& n : notes)
    for (const char* suffix : {"-request", "-start", "-details"})
      if (n.note_id.value.size() == session_id.value.size() + std::strlen(suffix) &&
          n.note_id.value.starts_with(session_id.value) && n.note_id.value.ends_with(suffix))
        return &n;
  return nullptr;
}

const note_state* session_state::own_note() const {
  return const_cast<session_state*>(this)->own_note();
}

}  // namespace tally
