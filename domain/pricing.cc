#include "domain/pricing.h"

#include <algorithm>

namespace tally {

std::int64_t billed_minutes(timestamp start, timestamp end) {
  const std::int64_t ms = (end - start).count();
  if (ms <= 0) return 0;
  return (ms + 59'999) / 60'000;
}

cents time_charge(cents hourly_rate_cents, std::int64_t minutes) {
  const __int128 product = static_cast<__int128>(hourly_rate_cents) * minutes;
  return static_cast<cents>((product + 30) / 60);
}

cents percent_half_up(cents amount, std::int64_t percent) {
  const __int128 product = static_cast<__int128>(amount) * percent;
  return static_cast<cents>((product + 50) / 100);
}

cents percent_floor(cents amount, std::int64_t percent) {
  const __int128 product = static_cast<__int128>(amount) * percent;
  return static_cast<cents>(product / 100);
}

std::vector<split> split_charge(cents amount, std::int64_t platform_fee_percent) {
  const cents platform = percent_floor(amount, platform_fee_percent);
  return {split{party::host, amount - platform}, split{party::platform, platform}};
}

cents line_total(const line_state& line) { return line.quantity * line.unit_price_cents; }

cents items_total(const session_state& s) {
  cents total = 0;
  for (const auto& l : s.lines) total += line_total(l);
  return total;
}

session_cost cost_of(const session_state& s, timestamp at) {
  if (s.final_cost) return *s.final_cost;
  session_cost c;
  c.items_total_cents = items_total(s);
  if (s.kind == session_kind::metered && s.started_at && s.resource) {
    c.billed_minutes = billed_minutes(*s.started_at, at);
    c.time_charge_cents =
        s.customer.subscribed ? 0 : time_charge(s.resource->hourly_rate_cents, c.billed_minutes);
  }
  if (s.kind == session_kind::appointment) {
    c.total_cents = s.price_cents.value_or(0);
    return c;
  }
  c.total_cents = c.time_charge_cents + c.items_total_cents;
  return c;
}

cents amount_due(const session_state& s) {
  cents due = 0;
  if (s.charges.empty()) {
    due = owes_nothing(s) ? 0 : s.price_cents.value_or(0);
  } else {
    for (const auto& c : s.charges) due += c.amount_cents;
  }
  return std::max<cents>(0, due - s.credited_cents);
}

cents left_to_pay(const session_state& s, timestamp now) {
  const bool running = s.kind != session_kind::appointment && s.status == session_status::active;
  const cents due =
      running ? std::max<cents>(0, cost_of(s, now).total_cents - s.credited_cents) : amount_due(s);
  return std::max<cents>(0, due - s.paid_cents());
}

cents amount_due(const invoice_state& i) {
  return std::max<cents>(0, i.total_cents - i.credit_applied_cents);
}

cents refund_due(const invoice_state& i) {
  return std::max<cents>(0, i.paid_cents - amount_due(i));
}

bool owes_nothing(const session_state& s) {
  if (s.status != session_status::ended) return false;
  if (s.charges.empty()) return s.outcome != session_outcome::early_end_short;
  return std::all_of(s.charges.begin(), s.charges.end(),
                     [](const charge_state& c) { return c.amount_cents == 0; });
}

cents refund_due(const session_state& s) {
  if (s.status != session_status::ended) return 0;
  return std::max<cents>(0, s.paid_cents() - amount_due(s));
}

payment_status payment_status_of(cents due, cents credited, cents payments, cents refunds) {
  const cents net = payments - refunds;
  if (payments == 0 && credited > 0 && due == 0) return payment_status::credited;
  if (payments > 0 && net <= 0) return payment_status::refunded;
  if (net > 0 && net >= due) return payment_status::paid;
  if (net > 0) return payment_status::partially_paid;
  return payment_status::unpaid;
}

payment_status payment_status_of(const session_state& s) {
  return payment_status_of(amount_due(s), s.credited_cents, s.payments_cents, s.refunds_cents);
}

payment_status payment_status_of(const invoice_state& i) {
  return payment_status_of(amount_due(i), i.credit_applied_cents, i.paid_cents, 0);
}

}  // namespace tally
