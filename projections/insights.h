#pragma once

// What an event changes beyond the aggregates themselves: the search indexes
// of customers and items, each customer's figures, the tenant's customer
// counts and the analytics day buckets in the tenant's local days
// (docs/domain.md, "Finding things" and "The business's numbers").
//
// Made before `evolve` applies the event (it remembers what the event is
// about to change) and finished after it (it writes the differences).

#include "domain/events.h"
#include "projections/analytics.h"
#include "projections/batch_writes.h"

#include <optional>
#include <set>
#include <string>

namespace tally::projections {

class insights {
 public:
  insights(batch_writes& b, batch_writes::tenant_view& view, const event& e);
  void after_evolve();

 private:
  batch_writes& b_;
  batch_writes::tenant_view& view_;
  const event& e_;
  std::optional<ids::session> session_;
  std::optional<ids::customer> customer_;
  std::optional<ids::item> item_;
  std::optional<session_state> session_before_;
  std::set<std::string> customer_keys_before_;
  std::optional<customer_state> customer_before_;
  bool in_session_before_ = false;
  std::set<std::string> item_keys_before_;
};

// The session whose state an event changes: its stream's, or the session an
// event in an invoice's stream names (a payment sent to a session's invoice,
// a credit note of one, the invoice itself), which evolve changes too.
std::optional<ids::session> session_changed_by(const event& e);

// The distinct lower-case trigrams of a text (ASCII case folding).
void trigrams(std::string_view text, std::set<std::string>& out);

}  // namespace tally::projections
