// What every decider shares: errors, charges and endings, the money bound on lines and lifetimes,
// the active customer and session.

#include "domain/decide/decider.h"

#include <algorithm>

namespace tally::deciding {

error not_found(std::string_view what, std::string_view id) {
  return make_error(errc::not_found, fmt::format("{} {} does not exist", what, id));
}

error bad_state(std::string detail) { return make_error(errc::invalid_state, std::move(detail)); }

error nothing_due(const session_state& ss) {
  return make_error(
      errc::nothing_due,
      fmt::format("the session ended ({}) and owes nothing",
                  ss.outcome ? boost::describe::enum_to_string(*ss.outcome, "") : ""));
}

std::vector<released_line> released(const session_state& s) {
  std::vector<released_line> out;
  for (const auto& l : s.lines)
    if (l.effect == stock_effect::reserved)
      out.push_back({l.line_id, l.item_id, l.name, l.quantity});
  return out;
}

std::string money_reason(charge_reason r) {
  switch (r) {
    case charge_reason::time_and_items:
      return "Time and items";
    case charge_reason::booked_price:
      return "Booked price";
    case charge_reason::no_show_fee:
      return "No-show fee";
    case charge_reason::manual:
      return "Manual charge";
  }
  return "Charge";
}

charge_processed decider::charge(const session_state& ss, cents amount, charge_reason reason,
                                 std::optional<std::string> note) const {
  return charge_processed{ss.session_id,
                          ss.customer.customer_id,
                          ids::charge{ctx.new_id()},
                          amount,
                          reason,
                          split_charge(amount, s.tenant().settings.platform_fee_percent),
                          std::move(note)};
}

session_ended decider::ending(const session_state& ss, session_outcome outcome, timestamp at,
                              cents total, std::optional<std::string> reason) const {
  session_ended e;
  e.session_id = ss.session_id;
  e.kind = ss.kind;
  e.outcome = outcome;
  e.ended_at = at;
  e.reason = std::move(reason);
  e.customer_id = ss.customer.customer_id;
  if (ss.resource) e.resource_id = ss.resource->resource_id;
  e.total_cents = total;
  return e;
}

std::optional<error> decider::line_within_bound(const session_state& ss, cents line, cents replaced,
                                                const char* field) const {
  if (!within_money_bound(line)) return amount_too_large(field, "the line's total", line);
  const cents others = items_total(ss) - replaced;
  if (!within_money_bound(others, line))
    return amount_too_large(field, "the session's items total", others + line);
  return std::nullopt;
}

std::optional<error> decider::lifetime_within_bound(const ids::customer& id, cents amount) const {
  const auto* c = s.customer(id);
  const cents lifetime = c ? c->total_paid_cents : 0;
  if (!within_money_bound(std::max<cents>(lifetime, 0), amount))
    return amount_too_large("amount_cents", "the customer's lifetime payments", lifetime + amount);
  return std::nullopt;
}

result<const customer_state*> decider::active_customer(const ids::customer& id) const {
  const auto* c = s.customer(id);
  if (!c) return not_found("customer", id.value);
  return c;
}

result<const session_state*> decider::active_session(const ids::session& id,
                                                     std::string_view action) const {
  const auto* ss = s.session(id);
  if (!ss) return not_found("session", id.value);
  if (ss->status != session_status::active)
    return bad_state(fmt::format("cannot {}: the session is {}", action,
                                 ss->status == session_status::ended ? "ended" : "not active"));
  return ss;
}

}  // namespace tally::deciding
