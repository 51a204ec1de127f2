#include "domain/pricing.h"

#include <gtest/gtest.h>

using namespace tally;

TEST(pricing, percentages_round_as_the_rules_say) {
  EXPECT_EQ(percent_half_up(1000, 50), 500);
  EXPECT_EQ(percent_half_up(999, 50), 500);  // 499.5 → 500
  EXPECT_EQ(percent_floor(999, 10), 99);
  EXPECT_EQ(percent_floor(500, 10), 50);
}

TEST(pricing, splits_always_add_up_to_the_charge) {
  for (cents amount : {0, 1, 9, 99, 500, 999, 1001, 123457}) {
    for (std::int64_t pct : {0, 1, 10, 33, 50, 99, 100}) {
      auto parts = split_charge(amount, pct);
      ASSERT_EQ(parts.size(), 2u);
      EXPECT_EQ(parts[0].amount_cents + parts[1].amount_cents, amount);
      EXPECT_EQ(parts[1].party, party::platform);
      EXPECT_EQ(parts[1].amount_cents, amount * pct / 100);
    }
  }
}

TEST(pricing, payment_status) {
  EXPECT_EQ(payment_status_of(1000, 0, 0, 0), payment_status::unpaid);
  EXPECT_EQ(payment_status_of(1000, 0, 999, 0), payment_status::partially_paid);
  EXPECT_EQ(payment_status_of(1000, 0, 1000, 0), payment_status::paid);
  EXPECT_EQ(payment_status_of(1000, 0, 1000, 1000), payment_status::refunded);
  EXPECT_EQ(payment_status_of(0, 0, 0, 0), payment_status::unpaid);
}

TEST(pricing, a_credit_note_reduces_what_is_owed) {
  // 800 credited 300: 500 is due; paying it pays the invoice.
  EXPECT_EQ(payment_status_of(500, 300, 0, 0), payment_status::unpaid);
  EXPECT_EQ(payment_status_of(500, 300, 500, 0), payment_status::paid);
  // Fully credited with nothing paid: credited, not unpaid.
  EXPECT_EQ(payment_status_of(0, 800, 0, 0), payment_status::credited);
  // Fully credited after a payment: paid (with a refund due), not credited.
  EXPECT_EQ(payment_status_of(0, 800, 800, 0), payment_status::paid);
  EXPECT_EQ(payment_status_of(0, 800, 800, 800), payment_status::refunded);

  invoice_state inv;
  inv.total_cents = 1000;
  inv.credited_cents = 400;  // an older credit note, and a newer one of 300
  inv.credit_applied_cents = 300;
  inv.paid_cents = 900;
  EXPECT_EQ(amount_due(inv), 700);
  EXPECT_EQ(refund_due(inv), 200);
  EXPECT_EQ(payment_status_of(inv), payment_status::paid);
}
