#pragma once

// The money rules of DOMAIN.md. Integer arithmetic only; each function says
// how it rounds.

#include "base/time.h"
#include "domain/ids.h"
#include "domain/limits.h"
#include "domain/state.h"

#include <cstdint>
#include <vector>

namespace tally {

// Elapsed milliseconds / 60 000, rounded up: a started minute counts.
std::int64_t billed_minutes(timestamp start, timestamp end);
// hourly rate × minutes / 60, rounded half-up.
cents time_charge(cents hourly_rate_cents, std::int64_t minutes);
// amount × percent / 100, rounded half-up.
cents percent_half_up(cents amount, std::int64_t percent);
// amount × percent / 100, rounded down.
cents percent_floor(cents amount, std::int64_t percent);
// platform = floor(charge × platform_fee_percent / 100), host = the rest.
std::vector<split> split_charge(cents amount, std::int64_t platform_fee_percent);

cents line_total(const line_state& line);
cents items_total(const session_state& s);
// What the session costs if it ends at `at` (its final cost once ended).
session_cost cost_of(const session_state& s, timestamp at);

// The sum of the session's charges, or its price while nothing is charged
// (payment in advance); 0 once it has ended owing nothing; less what credit
// notes on its invoice took off (never below 0).
cents amount_due(const session_state& s);
// What a payment may still pay (DOMAIN.md, Credit notes and overpayment):
// what is due less what is paid, never below 0. While a metered or shopping
// session runs, what is due is its cost so far, at `now`.
cents left_to_pay(const session_state& s, timestamp now);
// An invoice's total less the credit notes that reduce it.
cents amount_due(const invoice_state& i);
// What a standalone invoice took beyond what it owes.
cents refund_due(const invoice_state& i);
// Ended with nothing to pay: cancelled, timed out, a host's no-show, a
// no-show fee or a total of 0. An early end waiting for an admin's
// resolution is not (DOMAIN.md, Appointments).
bool owes_nothing(const session_state& s);
// What was paid beyond what an ended session owes, until it is refunded.
cents refund_due(const session_state& s);
payment_status payment_status_of(const session_state& s);
// The one formula: `due` after `credited` was taken off it; credited when
// a credit took it to 0 and nothing was paid.
payment_status payment_status_of(cents due, cents credited, cents payments, cents refunds);
payment_status payment_status_of(const invoice_state& standalone);

}  // namespace tally
