// The in-memory state_access (domain/evolve.h): what domain tests and a
// replay keep their aggregates in.

#include "domain/evolve.h"

namespace tally {

const aggregate* memory_state::find(std::string_view key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}
aggregate* memory_state::find_mut(std::string_view key) {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}
aggregate& memory_state::put(std::string_view key, aggregate value) {
  return items_.insert_or_assign(std::string(key), std::move(value)).first->second;
}
void memory_state::erase(std::string_view key) {
  auto it = items_.find(key);
  if (it != items_.end()) items_.erase(it);
}

}  // namespace tally
