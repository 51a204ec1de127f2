// DOMAIN.md "Payments", "Credit notes and overpayment": what a session or
// an invoice owes, and what a payment, a refund or a credit note does to it
// (money owed on cancelled and host-absent bookings, the automatic end that
// honours attendance, a session's invoice that shows its payments, credit
// notes that reduce what is owed, overpayment refused), and old histories
// that replay unchanged.

#include "support/booked_appointments.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

using payments = tally::testing::booked_appointments;

TEST_F(payments, a_cancelled_booking_owes_nothing_and_refuses_payments) {
  const auto id = booked(5000);
  EXPECT_EQ(view(id).amount_due_cents, 5000);  // payment in advance, while open
  s.run(cancel_session{id, std::string("client called")});
  EXPECT_EQ(view(id).amount_due_cents, 0);
  auto paid = s.when(record_payment{id, {}, 5000, "card"});
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.err().code, errc::nothing_due);
  // The bulk action's command: it used to record 5 000.
  auto bulk = s.when(mark_paid{id, "bulk"});
  ASSERT_FALSE(bulk);
  EXPECT_EQ(bulk.err().code, errc::nothing_due);
}

TEST_F(payments, money_paid_in_advance_on_a_cancelled_booking_is_due_back_until_refunded) {
  const auto id = booked(5000);
  s.run(record_payment{id, {}, 5000, "card"});
  EXPECT_EQ(view(id).refund_due_cents, 0);  // open: it is a payment in advance
  s.run(cancel_session{id, {}});
  EXPECT_EQ(view(id).refund_due_cents, 5000);
  s.run(refund_payment{id, 3000, "cancelled"});
  EXPECT_EQ(view(id).refund_due_cents, 2000);
  s.run(refund_payment{id, 2000, "cancelled"});
  EXPECT_EQ(view(id).refund_due_cents, 0);
  EXPECT_EQ(view(id).payment_status, payment_status::refunded);
}

TEST_F(payments, a_host_absent_no_show_owes_nothing_a_customer_absent_one_owes_the_fee) {
  const auto host_absent = booked(1000);
  s.now = start + 20min;
  s.run(mark_no_show{host_absent, absent_party::host});
  EXPECT_EQ(view(host_absent).amount_due_cents, 0);
  EXPECT_EQ(view(host_absent).absent_party, attendee::host);
  EXPECT_EQ(s.when(record_payment{host_absent, {}, 100, "card"}).err().code, errc::nothing_due);

  s.now = t0();
  const auto customer_absent = booked(1000);
  s.run(record_payment{customer_absent, {}, 1000, "card"});
  s.now = start + 20min;
  s.run(mark_no_show{customer_absent, absent_party::customer});
  EXPECT_EQ(view(customer_absent).amount_due_cents, 500);
  EXPECT_EQ(view(customer_absent).refund_due_cents, 500);
  EXPECT_EQ(view(customer_absent).absent_party, attendee::customer);
  EXPECT_EQ(view(customer_absent).payment_status, payment_status::paid);
}

TEST_F(payments, an_early_end_waiting_for_its_resolution_still_takes_payments) {
  const auto id = booked(1000);
  s.now = start;
  s.run(start_appointment{id});
  s.now = start + 10min;
  s.run(end_session{id});
  ASSERT_EQ(session(id).outcome, session_outcome::early_end_short);
  EXPECT_FALSE(owes_nothing(session(id)));
  EXPECT_TRUE(s.when(record_payment{id, {}, 100, "card"}));
  s.run(resolve_session{id, 0, "goodwill"});
  EXPECT_TRUE(owes_nothing(session(id)));
}

TEST_F(payments, the_automatic_end_honours_recorded_attendance) {
  const auto customer_only = booked(1000);
  const auto host_only = booked(1000);
  const auto both = booked(1000);
  const auto neither = booked(1000);
  s.now = start + 1min;
  s.run(record_attendance{customer_only, attendee::customer, attendance_change::joined, {}, {}});
  s.run(record_attendance{host_only, attendee::host, attendance_change::joined, {}, {}});
  s.run(record_attendance{both, attendee::customer, attendance_change::joined, {}, {}});
  s.run(record_attendance{both, attendee::host, attendance_change::joined, {}, {}});
  s.now = start + 60min;
  auto host_absent = s.run(expire_session{customer_only});
  ASSERT_EQ(host_absent.events.size(), 1u);  // nothing charged
  const auto& e1 = scenario::only<session_ended>(host_absent);
  EXPECT_EQ(e1.outcome, session_outcome::no_show);
  EXPECT_EQ(e1.absent_party, attendee::host);
  EXPECT_EQ(e1.ended_at, start + 60min);

  auto customer_absent = s.run(expire_session{host_only});
  ASSERT_EQ(customer_absent.events.size(), 2u);
  EXPECT_EQ(scenario::only<session_ended>(customer_absent).absent_party, attendee::customer);
  EXPECT_EQ(scenario::only<charge_processed>(customer_absent, 1).reason,
            charge_reason::no_show_fee);
  EXPECT_EQ(scenario::only<charge_processed>(customer_absent, 1).amount_cents, 500);

  for (const auto& id : {both, neither}) {
    auto d = s.run(expire_session{id});
    EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::completed_assumed);
    EXPECT_EQ(scenario::only<charge_processed>(d, 1).amount_cents, 1000);
  }
}

TEST_F(payments, a_sessions_invoice_shows_its_payments_and_takes_them_for_the_session) {
  const auto id = booked(1000);
  auto issued = s.run(invoice_session{id});
  const auto invoice = scenario::only<invoice_issued>(issued).invoice_id;
  s.run(record_payment{id, {}, 400, "card"});
  EXPECT_EQ(s.state().invoice(invoice)->paid_cents, 400);
  EXPECT_EQ(render(*s.state().invoice(invoice)).payment_status, payment_status::partially_paid);
  // Sent to the invoice: recorded on the session (it used to be refused).
  auto via = s.run(record_payment{{}, invoice, 600, "transfer"});
  const auto& p = scenario::only<payment_recorded>(via);
  EXPECT_EQ(p.session_id, id);
  EXPECT_EQ(p.invoice_id, invoice);
  EXPECT_EQ(via.target, keys::invoice(invoice));
  EXPECT_EQ(session(id).paid_cents(), 1000);
  EXPECT_EQ(s.state().invoice(invoice)->paid_cents, 1000);
  EXPECT_EQ(render(*s.state().invoice(invoice)).payment_status, payment_status::paid);
  EXPECT_EQ(view(id).paid_at, s.now);
}

// ---- credit notes and overpayment ---------------------------------------

TEST_F(payments, a_credit_note_reduces_what_a_session_and_its_invoice_owe) {
  const auto id = booked(800);
  const auto inv = scenario::only<invoice_issued>(s.run(invoice_session{id})).invoice_id;
  auto cn = s.run(issue_credit_note{inv, "goodwill", {{{"Goodwill", 1, 300}}}});
  EXPECT_EQ(scenario::only<credit_note_issued>(cn).reduces_amount_due, true);
  EXPECT_EQ(view(id).amount_due_cents, 500);
  EXPECT_EQ(view(id).credited_cents, 300);
  EXPECT_EQ(invoice(inv).credited_cents, 300);
  EXPECT_EQ(invoice(inv).amount_due_cents, 500);
  // The bulk action's command pays exactly what is left (it used to pay 800).
  auto paid = s.run(mark_paid{id, "bulk"});
  EXPECT_EQ(scenario::only<payment_recorded>(paid).amount_cents, 500);
  EXPECT_EQ(scenario::only<payment_recorded>(paid).status, payment_status::paid);
  EXPECT_EQ(invoice(inv).payment_status, payment_status::paid);
  EXPECT_EQ(view(id).payment_status, payment_status::paid);
}

TEST_F(payments, a_fully_credited_invoice_with_nothing_paid_reads_credited) {
  const auto id = booked(800);
  const auto inv = scenario::only<invoice_issued>(s.run(invoice_session{id})).invoice_id;
  s.run(issue_credit_note{inv, "cancelled by us", {}});
  EXPECT_EQ(invoice(inv).payment_status, payment_status::credited);
  EXPECT_EQ(invoice(inv).amount_due_cents, 0);
  EXPECT_EQ(view(id).payment_status, payment_status::credited);
  EXPECT_EQ(view(id).amount_due_cents, 0);
  EXPECT_EQ(s.when(mark_paid{id, "bulk"}).err().code, errc::nothing_due);
  // A new invoice claims the price again.
  const auto again = scenario::only<invoice_issued>(s.run(invoice_session{id})).invoice_id;
  EXPECT_EQ(view(id).amount_due_cents, 800);
  EXPECT_EQ(view(id).credited_cents, 0);
  EXPECT_EQ(invoice(again).payment_status, payment_status::unpaid);
}

TEST_F(payments, a_payment_beyond_what_is_left_is_an_overpayment_naming_what_is_left) {
  const auto id = booked(1000);
  // In advance on a booked appointment: up to its price.
  s.run(record_payment{id, {}, 600, "card"});
  auto over = s.when(record_payment{id, {}, 401, "card"});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::overpayment);
  EXPECT_NE(over.err().detail.find("400"), std::string::npos) << over.err().detail;
  EXPECT_EQ(over.err().fields.at(0).field, "amount_cents");
  EXPECT_TRUE(s.when(record_payment{id, {}, 400, "card"}));
}

TEST_F(payments, a_standalone_invoice_takes_no_more_than_it_owes_after_its_credit_notes) {
  const auto inv = scenario::only<invoice_issued>(
                       s.run(issue_invoice{ids::customer{"c1"}, {{"Workshop", 1, 1000}}}))
                       .invoice_id;
  s.run(record_payment{{}, inv, 600, "cash"});
  s.run(issue_credit_note{inv, "discount", {{{"Discount", 1, 300}}}});
  EXPECT_EQ(invoice(inv).amount_due_cents, 700);
  EXPECT_EQ(invoice(inv).payment_status, payment_status::partially_paid);
  EXPECT_EQ(s.when(record_payment{{}, inv, 101, "cash"}).err().code, errc::overpayment);
  s.run(record_payment{{}, inv, 100, "cash"});
  EXPECT_EQ(invoice(inv).payment_status, payment_status::paid);
  // Credited after it was paid: what it took beyond what it owes is due back.
  s.run(issue_credit_note{inv, "cancelled", {}});
  EXPECT_EQ(invoice(inv).amount_due_cents, 0);
  EXPECT_EQ(invoice(inv).refund_due_cents, 700);
  EXPECT_EQ(s.when(record_payment{{}, inv, 1, "cash"}).err().code, errc::overpayment);
  // A credit note is not paid.
  const auto cn = s.state().invoice(inv)->credited_cents;
  EXPECT_EQ(cn, 1000);
}

TEST_F(payments, a_running_shopping_session_takes_payments_up_to_its_cost_so_far) {
  s.given({item_registered{ids::item{"mug"}, "Mug", "pcs", 250, "B3"},
           stock_received{ids::item{"mug"}, "Mug", 5, 5}});
  const auto shop = scenario::only<session_started>(
                        s.run(start_session{session_kind::shopping, ids::customer{"c1"}, {}, {}}))
                        .session_id;
  s.run(add_item{shop, ids::item{"mug"}, 2, {}});
  EXPECT_EQ(s.when(record_payment{shop, {}, 501, "card"}).err().code, errc::overpayment);
  EXPECT_TRUE(s.when(record_payment{shop, {}, 500, "card"}));
}

TEST_F(payments, staff_record_a_payment_with_the_booking_up_to_its_price) {
  request_booking b{ids::customer{"c1"}, {}, "Intro", 30,     start,
                    ids::user{"host-7"}, {}, {},      "staff"};
  b.price_cents = 1200;
  b.payment = booking_payment{500, "card"};
  auto d = s.run(b);
  ASSERT_EQ(d.events.size(), 4u);  // requested, quoted, booked, paid
  const auto& p = scenario::only<payment_recorded>(d, 3);
  EXPECT_EQ(p.amount_cents, 500);
  EXPECT_EQ(p.status, payment_status::partially_paid);
  const auto id = scenario::only<session_requested>(d).session_id;
  EXPECT_EQ(view(id).paid_cents, 500);
  EXPECT_EQ(view(id).amount_due_cents, 1200);
  b.payment = booking_payment{1201, "card"};
  auto over = s.when(b);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::overpayment);
  EXPECT_EQ(over.err().fields.at(0).field, "payment.amount_cents");
  b.price_cents.reset();
  b.payment = booking_payment{1, "card"};
  EXPECT_EQ(s.when(b).err().code, errc::overpayment);  // no price: nothing to pay yet
  request_booking pub{ids::customer{"c1"}, {}, "Intro", 30, {}, {}, {}, {}, "public"};
  pub.payment = booking_payment{100, "card"};
  EXPECT_EQ(s.when(pub).err().code, errc::forbidden);
}

// ---- old histories ------------------------------------------------------

// Events written before a rule carry none of its fields: they replay to the
// state they always gave.
TEST_F(payments, a_no_show_written_before_absent_party_replays_as_the_host_absent) {
  const auto id = booked(1000);
  session_ended old;  // a no-show as written before absent_party existed
  old.session_id = id;
  old.kind = session_kind::appointment;
  old.outcome = session_outcome::no_show;
  old.ended_at = start + 20min;
  old.reason = "host absent";
  old.customer_id = ids::customer{"c1"};
  s.given({old});
  EXPECT_EQ(session(id).absent_party, attendee::host);
  EXPECT_EQ(session(id).status, session_status::ended);
  EXPECT_EQ(view(id).amount_due_cents, 0);
}

// A credit note written before credit notes reduced what is owed (no
// reduces_amount_due): it still counts as credited and limits what is left
// to credit, but the session and the invoice owe what they owed then.
TEST_F(payments, a_credit_note_issued_before_they_reduced_what_is_owed_replays_unchanged) {
  const auto id = booked(800);
  const auto inv = scenario::only<invoice_issued>(s.run(invoice_session{id})).invoice_id;
  credit_note_issued old;
  old.invoice_id = ids::invoice{"cn-old"};
  old.number = "CN-000001";
  old.sequence = 1;
  old.credits = inv;
  old.credits_number = s.state().invoice(inv)->number;
  old.session_id = id;
  old.customer_id = ids::customer{"c1"};
  old.customer_name = "Cleo";
  old.lines = {invoice_line{"Goodwill", 1, 300, 300}};
  old.total_cents = 300;
  old.reason = "goodwill";
  old.currency = "EUR";
  old.issued_at = s.now;
  s.given({old});
  EXPECT_EQ(view(id).amount_due_cents, 800);
  EXPECT_EQ(view(id).credited_cents, 0);
  EXPECT_EQ(invoice(inv).credited_cents, 300);
  EXPECT_EQ(invoice(inv).amount_due_cents, 800);
  EXPECT_EQ(invoice(inv).payment_status, payment_status::unpaid);
  EXPECT_EQ(scenario::only<payment_recorded>(s.run(mark_paid{id, "bulk"})).amount_cents, 800);
  // What is left to credit counts it.
  EXPECT_EQ(s.when(issue_credit_note{inv, "more", {{{"More", 1, 501}}}}).err().code,
            errc::credit_exceeds_invoice);
}

}  // namespace
