#pragma once

// The decider of every command: one struct, its operators defined one file
// per subject (appointment.cc, billing.cc, catalog.cc, session.cc,
// tenant.cc) over the helpers they share (decider.cc). Private to domain/:
// decide() (domain/decide.h) is the way in.

#include "domain/decide.h"
#include "domain/limits.h"
#include "domain/pricing.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::deciding {

error not_found(std::string_view what, std::string_view id);
error bad_state(std::string detail);
error nothing_due(const session_state& ss);
// The reserved lines of a session, as an ending releases them.
std::vector<released_line> released(const session_state& s);
std::string money_reason(charge_reason r);

struct decider {
  const state_reader& s;
  const decide_context& ctx;

  charge_processed charge(const session_state& ss, cents amount, charge_reason reason,
                          std::optional<std::string> note = {}) const;
  session_ended ending(const session_state& ss, session_outcome outcome, timestamp at, cents total,
                       std::optional<std::string> reason = {}) const;
  result<const session_state*> appointment(const ids::session& id) const;
  // The start of a decision that ends `ss`: for an appointment, its lines
  // (only an older history has any: appointments take no items) released
  // first, each by an ItemRemoved (not_billable), so that no ended session
  // holds stock.
  decision closing(const session_state& ss) const;
  // Appointments that reach their end: charged the full price, unless the
  // recorded attendance shows that only one party came (DOMAIN.md).
  decision assumed_completion(const session_state& ss) const;

  // A no-show of `absent`: the fee when the customer did not come, nothing
  // when the host did not.
  decision no_show(const session_state& ss, attendee absent, timestamp at,
                   std::string_view when = {}) const;

  // A line of `line` cents in place of one of `replaced` cents: the line and
  // the session's items within the money bound (DOMAIN.md, Rules).
  std::optional<error> line_within_bound(const session_state& ss, cents line, cents replaced,
                                         const char* field) const;
  // A payment of `amount` within the customer's lifetime bound: what they
  // paid, less refunds, stays within the money bound.
  std::optional<error> lifetime_within_bound(const ids::customer& id, cents amount) const;

  result<const customer_state*> active_customer(const ids::customer& id) const;
  result<const session_state*> active_session(const ids::session& id,
                                              std::string_view action) const;

  result<decision> operator()(const register_customer& x) const;
  result<decision> operator()(const update_customer& x) const;
  result<decision> operator()(const deactivate_customer& x) const;
  result<decision> operator()(const change_subscription& x) const;
  result<decision> operator()(const register_resource& x) const;
  result<decision> operator()(const change_resource_rate& x) const;
  result<decision> operator()(const put_item& x) const;
  result<decision> operator()(const receive_stock& x) const;
  result<decision> operator()(const adjust_stock& x) const;
  result<decision> operator()(const start_session& x) const;
  result<decision> operator()(const add_item& x) const;
  result<decision> operator()(const remove_item& x) const;
  result<decision> operator()(const adjust_price& x) const;
  result<decision> operator()(const pick_item& x) const;
  result<decision> operator()(const cancel_session& x) const;
  result<decision> operator()(const expire_session& x) const;
  result<decision> operator()(const add_note& x) const;
  result<decision> operator()(const end_session& x) const;
  result<decision> operator()(const record_payment& x) const;
  result<decision> session_payment(const session_state& ss, const record_payment& x,
                                   std::optional<ids::invoice> via, std::string target) const;
  result<decision> operator()(const mark_paid& x) const;
  result<decision> operator()(const refund_payment& x) const;
  result<decision> operator()(const issue_invoice& x) const;
  result<decision> operator()(const request_booking& x) const;
  result<decision> operator()(const quote_session& x) const;
  result<decision> operator()(const book_session& x) const;
  result<decision> operator()(const reschedule_session& x) const;
  result<decision> operator()(const start_appointment& x) const;
  result<decision> operator()(const record_attendance& x) const;
  result<decision> operator()(const mark_no_show& x) const;
  result<decision> operator()(const resolve_session& x) const;
  result<decision> operator()(const invoice_session& x) const;
  result<decision> operator()(const issue_credit_note& x) const;
  result<decision> operator()(const change_session_details& x) const;
  result<decision> operator()(const give_feedback& x) const;
  result<decision> operator()(const register_webhook& x) const;
  result<decision> operator()(const remove_webhook& x) const;
  result<decision> operator()(const change_settings& x) const;
};

}  // namespace tally::deciding
