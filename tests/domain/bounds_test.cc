// The bounds on what a client may send (domain/limits.h, issue #27): every
// amount and every total a command would produce at the money bound is
// taken and one cent past it is 422 amount_too_large naming the field;
// quantities to 10^6; times a client gives in [2000, 2100); text lengths in
// characters, not bytes.

#include "domain/limits.h"
#include "support/scenario.h"

using namespace tally;
using tally::testing::scenario;

namespace {

constexpr cents bound = max_amount_cents;

void expect_too_large(const result<decision>& d, const std::string& field) {
  ASSERT_FALSE(d) << "taken";
  EXPECT_EQ(d.err().code, errc::amount_too_large) << d.err().detail;
  ASSERT_EQ(d.err().fields.size(), 1u) << d.err().detail;
  EXPECT_EQ(d.err().fields[0].field, field);
}

void expect_invalid(const result<decision>& d, const std::string& field) {
  ASSERT_FALSE(d) << "taken";
  EXPECT_EQ(d.err().code, errc::invalid_request) << d.err().detail;
  ASSERT_FALSE(d.err().fields.empty()) << d.err().detail;
  EXPECT_EQ(d.err().fields[0].field, field);
}

// A customer, an item at `price` with stock, and a shopping session.
struct shop : scenario {
  ids::customer customer{"c1"};
  ids::item item{"gold"};
  ids::session session;
  explicit shop(cents price) {
    given({customer_registered{customer, "Bo", {}, {}, false},
           item_registered{item, "Gold", "bar", price, "Vault"},
           stock_received{item, "Gold", max_quantity, max_quantity}});
    session = only<session_started>(run(start_session{session_kind::shopping, customer, {}, {}}))
                  .session_id;
  }
};

TEST(money_bound, an_amount_at_the_bound_is_taken_and_one_past_it_is_too_large) {
  scenario s;
  EXPECT_TRUE(s.when(register_resource{"PC", bound}));
  expect_too_large(s.when(register_resource{"PC", bound + 1}), "hourly_rate_cents");
  EXPECT_TRUE(s.when(put_item{ids::item{"x"}, "X", {}, bound, {}}));
  expect_too_large(s.when(put_item{ids::item{"x"}, "X", {}, bound + 1, {}}), "unit_price_cents");
  // Negative stays a bad request, whatever its size.
  expect_invalid(s.when(put_item{ids::item{"x"}, "X", {}, -1, {}}), "unit_price_cents");
}

TEST(money_bound, a_line_and_the_sessions_items_stay_within_it) {
  shop s(bound / 2);
  expect_too_large(s.when(add_item{s.session, s.item, 3, {}}), "quantity");
  const auto line =
      scenario::only<item_added>(s.run(add_item{s.session, s.item, 2, {}})).line_id;  // = bound
  // The session's items already make the bound: one more cent is past it.
  expect_too_large(s.when(add_item{s.session, s.item, 1, cents{1}}), "quantity");
  EXPECT_TRUE(s.when(add_item{s.session, s.item, 1, cents{0}}));
  // A price adjustment counts the line it replaces.
  EXPECT_TRUE(s.when(adjust_price{s.session, line, bound / 2, {}}));
  expect_too_large(s.when(adjust_price{s.session, line, bound / 2 + 1, {}}), "unit_price_cents");
}

TEST(money_bound, a_metered_sessions_total_past_it_is_refused_at_its_end) {
  scenario s;
  s.given({customer_registered{ids::customer{"c1"}, "Bo", {}, {}, false},
           resource_registered{ids::resource{"r1"}, "Suite", bound}});
  const auto session =
      scenario::only<session_started>(
          s.run(start_session{session_kind::metered, ids::customer{"c1"}, ids::resource{"r1"}, {}}))
          .session_id;
  s.advance(std::chrono::minutes(60));
  EXPECT_TRUE(s.when(end_session{session}));  // an hour at the rate: the bound
  s.advance(std::chrono::minutes(1));
  expect_too_large(s.when(end_session{session}), "total_cents");
}

TEST(money_bound, an_invoices_lines_and_total_stay_within_it) {
  scenario s;
  s.given({customer_registered{ids::customer{"c1"}, "Bo", {}, {}, false}});
  const new_invoice_line at_bound{"Gold", max_quantity, bound / max_quantity};
  EXPECT_TRUE(s.when(issue_invoice{ids::customer{"c1"}, {at_bound}}));
  expect_too_large(s.when(issue_invoice{ids::customer{"c1"}, {at_bound, at_bound}}), "lines");
  expect_too_large(s.when(issue_invoice{ids::customer{"c1"},
                                        {{"Gold", max_quantity, bound / max_quantity + 1}}}),
                   "lines[0].quantity");
  // Ten lines of 10^6 × 10^9 (issue #27): each is named.
  auto ten =
      s.when(issue_invoice{ids::customer{"c1"}, std::vector<new_invoice_line>(
                                                    10, {"Gold", max_quantity, 1'000'000'000})});
  ASSERT_FALSE(ten);
  EXPECT_EQ(ten.err().code, errc::amount_too_large);
  EXPECT_EQ(ten.err().fields.size(), 10u);
  // Quantities to 10^6, lines to 500.
  expect_invalid(s.when(issue_invoice{ids::customer{"c1"}, {{"Tea", max_quantity + 1, 1}}}),
                 "lines[0].quantity");
  expect_invalid(
      s.when(issue_invoice{ids::customer{"c1"}, std::vector<new_invoice_line>(501, {"Tea", 1, 1})}),
      "lines");
}

TEST(money_bound, payments_stay_within_it_per_invoice_per_session_and_per_customer) {
  scenario s;
  s.given({customer_registered{ids::customer{"c1"}, "Bo", {}, {}, false}});
  const new_invoice_line at_bound{"Gold", max_quantity, bound / max_quantity};
  auto issued = [&] {
    return scenario::only<invoice_issued>(s.run(issue_invoice{ids::customer{"c1"}, {at_bound}}))
        .invoice_id;
  };
  const auto first = issued(), second = issued();
  expect_too_large(s.when(record_payment{{}, first, bound + 1, "cash"}), "amount_cents");
  expect_too_large(s.when(record_payment{{}, first, 9'007'199'254'740'991, "cash"}),
                   "amount_cents");
  s.run(record_payment{{}, first, bound - 1, "cash"});
  // Past the invoice's total: an overpayment (what is left, 1, is less).
  auto past = s.when(record_payment{{}, first, 2, "cash"});
  ASSERT_FALSE(past);
  EXPECT_EQ(past.err().code, errc::overpayment);
  s.run(record_payment{{}, first, 1, "cash"});
  // The customer has paid the bound in their lifetime: no more, anywhere.
  EXPECT_EQ(s.state().customer(ids::customer{"c1"})->total_paid_cents, bound);
  expect_too_large(s.when(record_payment{{}, second, 1, "cash"}), "amount_cents");
}

TEST(money_bound, a_sessions_payments_stay_within_it) {
  // No payment passes what is left to pay, but payments refunded and paid
  // again add up: their sum stays within the bound.
  shop s(bound);
  s.run(add_item{s.session, s.item, 1, {}});
  s.run(record_payment{s.session, {}, bound, "cash"});
  s.run(refund_payment{s.session, bound, "returned"});
  auto more = s.when(record_payment{s.session, {}, 1, "cash"});
  expect_too_large(more, "amount_cents");
  ASSERT_FALSE(more);
  EXPECT_NE(more.err().detail.find("the session's payments"), std::string::npos);
}

TEST(quantities, a_line_received_or_adjusted_holds_at_most_a_million) {
  shop s(1);
  expect_invalid(s.when(add_item{s.session, s.item, max_quantity + 1, {}}), "quantity");
  expect_invalid(s.when(receive_stock{s.item, max_quantity + 1}), "quantity");
  expect_invalid(s.when(adjust_stock{s.item, -(max_quantity + 1), "loss"}), "delta");
  EXPECT_TRUE(s.when(add_item{s.session, s.item, max_quantity, {}}));
}

TEST(client_times, lie_between_2000_and_2100) {
  scenario s;
  s.given({customer_registered{ids::customer{"c1"}, "Bo", {}, {}, false}});
  auto booking = [&](const char* at) {
    request_booking b;
    b.customer_id = ids::customer{"c1"};
    b.title = "Tax advice";
    b.duration_minutes = 60;
    b.scheduled_start = parse_rfc3339(at);
    return s.when(b);
  };
  EXPECT_TRUE(booking("2000-01-01T00:00:00.000Z"));
  EXPECT_TRUE(booking("2099-12-31T23:59:59.999Z"));
  expect_invalid(booking("1999-12-31T23:59:59.999Z"), "scheduled_start");
  expect_invalid(booking("2100-01-01T00:00:00.000Z"), "scheduled_start");
  expect_invalid(booking("0001-01-01T00:00:00.000Z"), "scheduled_start");
  expect_invalid(
      s.when(reschedule_session{ids::session{"s"}, *parse_rfc3339("1970-01-01T00:00:00Z"), {}}),
      "scheduled_start");
  expect_invalid(s.when(record_attendance{ids::session{"s"},
                                          attendee::customer,
                                          attendance_change::joined,
                                          parse_rfc3339("2100-06-01T00:00:00Z"),
                                          {}}),
                 "at");
}

TEST(text, limits_count_characters_not_bytes) {
  scenario s;
  std::string name;
  for (std::size_t i = 0; i < max_name; ++i) name += "\xe6\x97\xa5";  // 日, three bytes
  EXPECT_TRUE(s.when(register_customer{name, {}, {}, {}}));
  expect_invalid(s.when(register_customer{name + "\xe6\x97\xa5", {}, {}, {}}), "name");
  EXPECT_EQ(characters("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"), 4u);
}

TEST(host_ids, are_bounded_like_a_tokens_sub) {
  scenario s;
  s.given({customer_registered{ids::customer{"c1"}, "Bo", {}, {}, false}});
  request_booking b;
  b.customer_id = ids::customer{"c1"};
  b.title = "Tax advice";
  b.duration_minutes = 60;
  b.host_id = ids::user{std::string(max_user_id + 1, 'h')};
  expect_invalid(s.when(b), "host_id");
  b.host_id = ids::user{"host\n7"};
  expect_invalid(s.when(b), "host_id");
  b.host_id = ids::user{"host-7@example.com"};
  EXPECT_TRUE(s.when(b));
}

}  // namespace
