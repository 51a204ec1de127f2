// decide(): the field checks (validate.cc), the host's scope, then the
// decider of the command (domain/decide/). And what a replay needs to answer
// an idempotent retry from the events alone.

#include "domain/decide.h"

#include "domain/decide/decider.h"

namespace tally {

answer_subject answer_subject_of(std::span<const event> events) {
  answer_subject out;
  if (events.empty()) return out;
  const event* about = &events.front();
  if (std::holds_alternative<customer_registered>(about->data) && events.size() > 1)
    about = &events[1];
  out.target = about->stream.aggregate_key();
  // A payment sent to a session's invoice is recorded on the session; the
  // answer is about the invoice.
  if (const auto* p = std::get_if<payment_recorded>(&about->data);
      p && p->session_id && p->invoice_id)
    out.target = keys::invoice(*p->invoice_id);
  if (const auto* a = std::get_if<item_added>(&about->data)) out.line_id = a->line_id;
  return out;
}

std::optional<ids::session> session_of(const command& cmd) {
  return std::visit(
      [](const auto& c) -> std::optional<ids::session> {
        if constexpr (requires { c.session_id; }) {
          return c.session_id;  // (optional on a payment: a session's, or an invoice's)
        } else {
          return std::nullopt;
        }
      },
      cmd);
}

bool visible_to(const session_state& s, const decide_context& ctx) {
  return !ctx.host_scoped || s.kind != session_kind::appointment || s.host_id == ctx.actor;
}

result<decision> decide(const command& cmd, const state_reader& state, const decide_context& ctx) {
  if (auto problem = check_fields(cmd)) return std::move(*problem);
  // Another host's appointment does not exist for a host (DOMAIN.md).
  if (const auto id = session_of(cmd); id && ctx.host_scoped) {
    if (const auto* ss = state.session(*id); ss && !visible_to(*ss, ctx))
      return deciding::not_found("session", id->value);
  }
  return std::visit(deciding::decider{state, ctx}, cmd);
}

}  // namespace tally
