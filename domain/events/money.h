#pragma once

// The events of money: charges, payments, refunds, invoices and credit
// notes. Part of domain/events.h.

#include "domain/events/values.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

struct charge_processed {
  static constexpr std::string_view type = "ChargeProcessed";
  ids::session session_id;
  ids::customer customer_id;
  ids::charge charge_id;
  cents amount_cents = 0;
  charge_reason reason = charge_reason::time_and_items;
  std::vector<split> splits;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(charge_processed, (),
                      (session_id, customer_id, charge_id, amount_cents, reason, splits, note))

// Recorded in a session's stream, or in a standalone invoice's.
struct payment_recorded {
  static constexpr std::string_view type = "PaymentRecorded";
  std::optional<ids::session> session_id;
  std::optional<ids::invoice> invoice_id;
  ids::customer customer_id;
  ids::payment payment_id;
  cents amount_cents = 0;
  std::string method;
  cents paid_cents = 0;  // payments minus refunds, after
  payment_status status = payment_status::unpaid;
};
BOOST_DESCRIBE_STRUCT(payment_recorded, (),
                      (session_id, invoice_id, customer_id, payment_id, amount_cents, method,
                       paid_cents, status))

struct payment_refunded {
  static constexpr std::string_view type = "PaymentRefunded";
  ids::session session_id;
  ids::customer customer_id;
  ids::payment refund_id;
  cents amount_cents = 0;
  std::string reason;
  cents paid_cents = 0;  // payments minus refunds, after
  payment_status status = payment_status::unpaid;
};
BOOST_DESCRIBE_STRUCT(payment_refunded, (),
                      (session_id, customer_id, refund_id, amount_cents, reason, paid_cents,
                       status))

// ---- invoices -----------------------------------------------------------

struct invoice_issued {
  static constexpr std::string_view type = "InvoiceIssued";
  ids::invoice invoice_id;
  std::string number;  // INV-000001
  std::int64_t sequence = 0;
  std::optional<ids::session> session_id;
  ids::customer customer_id;
  std::string customer_name;
  std::vector<invoice_line> lines;
  cents total_cents = 0;
  std::string currency;
  timestamp issued_at;
};
BOOST_DESCRIBE_STRUCT(invoice_issued, (),
                      (invoice_id, number, sequence, session_id, customer_id, customer_name, lines,
                       total_cents, currency, issued_at))

// A credit note: its own id and number (CN-000001), the invoice it corrects.
struct credit_note_issued {
  static constexpr std::string_view type = "CreditNoteIssued";
  ids::invoice invoice_id;  // the credit note's id
  std::string number;
  std::int64_t sequence = 0;
  ids::invoice credits;
  std::string credits_number;
  std::optional<ids::session> session_id;
  ids::customer customer_id;
  std::string customer_name;
  std::vector<invoice_line> lines;
  cents total_cents = 0;
  bool full = false;  // nothing is left to credit on `credits` after this
  std::string reason;
  std::string currency;
  timestamp issued_at;
  // true on every credit note issued since credit notes reduce what is owed
  // (DOMAIN.md, Credit notes and overpayment); absent on older ones, which
  // replay as they were decided: credited, without changing what is owed.
  std::optional<bool> reduces_amount_due;
};
BOOST_DESCRIBE_STRUCT(credit_note_issued, (),
                      (invoice_id, number, sequence, credits, credits_number, session_id,
                       customer_id, customer_name, lines, total_cents, full, reason, currency,
                       issued_at, reduces_amount_due))

}  // namespace tally
