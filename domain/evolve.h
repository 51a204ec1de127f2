#pragma once

#include "domain/events.h"
#include "domain/state.h"

#include <map>
#include <string>

namespace tally {

// Applies one event to the aggregates it touches: its own stream's (whose
// version goes up by one) and any whose derived fields it changes (a
// resource's occupant, an item's stock, a customer's totals, the tenant's
// invoice counters). Pure; the only function that changes state.
void evolve(state_access& state, const event& e);

// One tenant's aggregates in memory: for tests, and for folding a single
// stream (time travel).
class memory_state final : public state_access {
 public:
  [[nodiscard]] const aggregate* find(std::string_view key) const override;
  [[nodiscard]] aggregate* find_mut(std::string_view key) override;
  aggregate& put(std::string_view key, aggregate value) override;
  void erase(std::string_view key) override;
  [[nodiscard]] const std::map<std::string, aggregate, std::less<>>& all() const { return items_; }

 private:
  std::map<std::string, aggregate, std::less<>> items_;
};

}  // namespace tally
