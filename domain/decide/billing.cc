// Payments, refunds, invoices and credit notes.

#include "domain/decide/decider.h"

#include <algorithm>

namespace tally::deciding {

namespace {

error overpayment(cents left, std::string_view of) {
  return error{errc::overpayment,
               left > 0 ? fmt::format("only {} is left to pay on {}", left, of)
                        : fmt::format("nothing is left to pay on {}", of),
               {{"amount_cents", "is more than is left to pay"}}};
}

}  // namespace

result<decision> decider::operator()(const record_payment& x) const {
  if (x.session_id) {
    const auto* ss = s.session(*x.session_id);
    if (!ss) return not_found("session", x.session_id->value);
    return session_payment(*ss, x, {}, keys::session(*x.session_id));
  }
  const auto* inv = x.invoice_id ? s.invoice(*x.invoice_id) : nullptr;
  if (!inv) return not_found("invoice", x.invoice_id ? x.invoice_id->value : "");
  if (inv->kind != invoice_kind::invoice) return bad_state("a credit note is not paid");
  if (inv->session_id) {
    // A session's invoice shows the session's payments: a payment sent to
    // the invoice is recorded on its session.
    const auto* ss = s.session(*inv->session_id);
    if (!ss) return not_found("session", inv->session_id->value);
    return session_payment(*ss, x, inv->invoice_id, keys::invoice(inv->invoice_id));
  }
  const cents left = std::max<cents>(0, amount_due(*inv) - inv->paid_cents);
  if (x.amount_cents > left) return overpayment(left, inv->number);
  if (!within_money_bound(inv->paid_cents, x.amount_cents))
    return amount_too_large("amount_cents", "the invoice's payments",
                            inv->paid_cents + x.amount_cents);
  if (auto e = lifetime_within_bound(inv->customer_id, x.amount_cents)) return *e;
  invoice_state after = *inv;
  after.paid_cents += x.amount_cents;
  return decision{{payment_recorded{{},
                                    x.invoice_id,
                                    inv->customer_id,
                                    ids::payment{ctx.new_id()},
                                    x.amount_cents,
                                    x.method,
                                    after.paid_cents,
                                    payment_status_of(after)}},
                  keys::invoice(*x.invoice_id),
                  {}};
}

result<decision> decider::session_payment(const session_state& ss, const record_payment& x,
                                          std::optional<ids::invoice> via,
                                          std::string target) const {
  if (owes_nothing(ss)) return nothing_due(ss);
  const cents left = left_to_pay(ss, ctx.now);
  if (x.amount_cents > left) return overpayment(left, "the session");
  if (!within_money_bound(ss.payments_cents, x.amount_cents))
    return amount_too_large("amount_cents", "the session's payments",
                            ss.payments_cents + x.amount_cents);
  if (auto e = lifetime_within_bound(ss.customer.customer_id, x.amount_cents)) return *e;
  const cents payments = ss.payments_cents + x.amount_cents;
  return decision{
      {payment_recorded{
          ss.session_id, std::move(via), ss.customer.customer_id, ids::payment{ctx.new_id()},
          x.amount_cents, x.method, payments - ss.refunds_cents,
          payment_status_of(amount_due(ss), ss.credited_cents, payments, ss.refunds_cents)}},
      std::move(target),
      {}};
}

result<decision> decider::operator()(const mark_paid& x) const {
  const auto* ss = s.session(x.session_id);
  if (!ss) return not_found("session", x.session_id.value);
  if (owes_nothing(*ss)) return nothing_due(*ss);
  const cents left = left_to_pay(*ss, ctx.now);
  if (left <= 0) return make_error(errc::nothing_due, "nothing is left to pay on this session");
  return (*this)(record_payment{x.session_id, {}, left, x.method});
}

result<decision> decider::operator()(const refund_payment& x) const {
  const auto* ss = s.session(x.session_id);
  if (!ss) return not_found("session", x.session_id.value);
  if (x.amount_cents > ss->paid_cents())
    return error{errc::invalid_state,
                 fmt::format("only {} is paid and not refunded", ss->paid_cents()),
                 {{"amount_cents", "is more than what is paid"}}};
  const cents refunds = ss->refunds_cents + x.amount_cents;
  return decision{
      {payment_refunded{
          x.session_id, ss->customer.customer_id, ids::payment{ctx.new_id()}, x.amount_cents,
          x.reason, ss->payments_cents - refunds,
          payment_status_of(amount_due(*ss), ss->credited_cents, ss->payments_cents, refunds)}},
      keys::session(x.session_id),
      {}};
}

result<decision> decider::operator()(const issue_invoice& x) const {
  const auto* c = s.customer(x.customer_id);
  if (!c)
    return error{errc::not_found, "customer does not exist", {{"customer_id", "does not exist"}}};
  invoice_issued inv;
  inv.invoice_id = ids::invoice{ctx.new_id()};
  inv.sequence = s.tenant().invoice_sequence + 1;
  inv.number = fmt::format("INV-{:06}", inv.sequence);
  inv.customer_id = c->customer_id;
  inv.customer_name = c->name;
  inv.currency = s.tenant().settings.currency;
  inv.issued_at = ctx.now;
  for (const auto& l : x.lines) {
    inv.lines.push_back(invoice_line{l.description, l.quantity, l.unit_price_cents,
                                     l.quantity * l.unit_price_cents});
    inv.total_cents += l.quantity * l.unit_price_cents;
  }
  std::string target = keys::invoice(inv.invoice_id);
  return decision{{std::move(inv)}, std::move(target), {}};
}

result<decision> decider::operator()(const invoice_session& x) const {
  const auto* cur = s.session(x.session_id);
  if (!cur) return not_found("session", x.session_id.value);
  if (cur->invoice_id)
    return make_error(errc::already_invoiced,
                      fmt::format("the session is invoiced ({})", cur->invoice_id->value));
  if (cur->kind != session_kind::appointment)
    return bad_state("metered and shopping sessions are invoiced when they end");
  invoice_issued inv;
  inv.invoice_id = ids::invoice{ctx.new_id()};
  inv.sequence = s.tenant().invoice_sequence + 1;
  inv.number = fmt::format("INV-{:06}", inv.sequence);
  inv.session_id = cur->session_id;
  inv.customer_id = cur->customer.customer_id;
  inv.customer_name = cur->customer.name;
  inv.currency = s.tenant().settings.currency;
  inv.issued_at = ctx.now;
  const std::string title = cur->title.value_or("Appointment");
  if (cur->status == session_status::booked || cur->status == session_status::active) {
    const cents price = cur->price_cents.value_or(0);
    inv.lines.push_back(invoice_line{title, 1, price, price});
  } else if (cur->status == session_status::ended && !cur->charges.empty()) {
    for (const auto& c : cur->charges)
      inv.lines.push_back(
          invoice_line{title + ": " + money_reason(c.reason), 1, c.amount_cents, c.amount_cents});
  } else {
    return bad_state("only booked, active, or ended-and-charged appointments can be invoiced");
  }
  for (const auto& l : inv.lines) inv.total_cents += l.amount_cents;
  std::string target = keys::invoice(inv.invoice_id);
  return decision{{std::move(inv)}, std::move(target), {}};
}

result<decision> decider::operator()(const issue_credit_note& x) const {
  const auto* inv = s.invoice(x.invoice_id);
  if (!inv) return not_found("invoice", x.invoice_id.value);
  if (inv->kind != invoice_kind::invoice) return bad_state("a credit note cannot be credited");
  const cents left = inv->total_cents - inv->credited_cents;
  credit_note_issued cn;
  if (x.lines) {
    for (const auto& l : *x.lines)
      cn.lines.push_back(invoice_line{l.description, l.quantity, l.unit_price_cents,
                                      l.quantity * l.unit_price_cents});
  } else if (inv->credited_cents == 0) {
    cn.lines = inv->lines;
  } else {
    cn.lines.push_back(invoice_line{"Credit for " + inv->number, 1, left, left});
  }
  for (const auto& l : cn.lines) cn.total_cents += l.amount_cents;
  if (left <= 0 || cn.total_cents > left)
    return error{
        errc::credit_exceeds_invoice,
        fmt::format("{} is left to credit on {}, {} asked", left, inv->number, cn.total_cents),
        {{"lines", "credit more than is left"}}};
  cn.invoice_id = ids::invoice{ctx.new_id()};
  cn.sequence = s.tenant().credit_note_sequence + 1;
  cn.number = fmt::format("CN-{:06}", cn.sequence);
  cn.credits = inv->invoice_id;
  cn.credits_number = inv->number;
  cn.session_id = inv->session_id;
  cn.customer_id = inv->customer_id;
  cn.customer_name = inv->customer_name;
  cn.full = cn.total_cents == left;
  cn.reason = x.reason;
  cn.currency = inv->currency;
  cn.issued_at = ctx.now;
  cn.reduces_amount_due = true;
  std::string target = keys::invoice(cn.invoice_id);
  return decision{{std::move(cn)}, std::move(target), {}};
}

}  // namespace tally::deciding
