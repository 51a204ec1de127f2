// The rules of the December review (issue 17; DOMAIN.md "Appointments",
// "Payments", "Shopping"): money owed on cancelled and host-absent
// bookings, the automatic end that honours attendance, a session's invoice
// that shows its payments, appointments that belong to their host, what
// the public may say in a booking, bookings quoted or booked in one
// command, the details of an open session, feedback, and old histories
// that replay unchanged.

#include "support/scenario.h"

#include "domain/pricing.h"
#include "domain/views.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

struct december : ::testing::Test {
  scenario s;
  const timestamp start = t0() + 24h;

  void SetUp() override {
    s.given({customer_registered{
        ids::customer{"c1"}, "Cleo", std::string("cleo@example.com"), {}, false}});
  }
  // A booked appointment of 60 minutes hosted by `host`.
  ids::session booked(cents price, const char* host = "host-7") {
    auto d =
        s.run(request_booking{ids::customer{"c1"}, {}, "Tax advice", 60, {}, {}, {}, {}, "staff"});
    const auto id = scenario::only<session_requested>(d).session_id;
    s.run(book_session{id, start, 60, price, ids::user{host}});
    return id;
  }
  const session_state& session(const ids::session& id) { return *s.state().session(id); }
  session_view view(const ids::session& id) { return render(session(id), s.now); }
};

// ---- money ------------------------------------------------------------

TEST_F(december, a_cancelled_booking_owes_nothing_and_refuses_payments) {
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

TEST_F(december, money_paid_in_advance_on_a_cancelled_booking_is_due_back_until_refunded) {
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

TEST_F(december, a_host_absent_no_show_owes_nothing_a_customer_absent_one_owes_the_fee) {
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

TEST_F(december, an_early_end_waiting_for_its_resolution_still_takes_payments) {
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

TEST_F(december, the_automatic_end_honours_recorded_attendance) {
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

TEST_F(december, a_sessions_invoice_shows_its_payments_and_takes_them_for_the_session) {
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

// ---- whose sessions -----------------------------------------------------

TEST_F(december, a_host_sees_and_acts_on_only_their_own_appointments) {
  const auto mine = booked(1000, "host-7");
  const auto theirs = booked(1000, "host-8");
  s.as_host("host-7", "Hana");
  s.now = start;
  EXPECT_TRUE(s.when(start_appointment{mine}));
  auto other = s.when(start_appointment{theirs});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.err().code, errc::not_found);  // as if it did not exist
  EXPECT_EQ(s.when(add_note{theirs, "hi", {}}).err().code, errc::not_found);
  EXPECT_EQ(s.when(record_attendance{theirs, attendee::host, attendance_change::joined, {}, {}})
                .err()
                .code,
            errc::not_found);
  EXPECT_FALSE(visible_to(session(theirs),
                          decide_context{{}, ids::user{"host-7"}, {}, false, {}, {}, true, false}));
  // Shopping and metered sessions stay everyone's.
  s.given({item_registered{ids::item{"mug"}, "Mug", "pcs", 100, "B3"}});
  s.as_host("host-8");
  auto shop = scenario::only<session_started>(
                  s.run(start_session{session_kind::shopping, ids::customer{"c1"}, {}, {}}))
                  .session_id;
  s.as_host("host-7");
  EXPECT_TRUE(s.when(add_note{shop, "for the warehouse", {}}));
  // An admin sees all.
  s.as_admin();
  EXPECT_TRUE(s.when(record_attendance{theirs, attendee::host, attendance_change::joined, {}, {}}));
}

TEST_F(december, a_hosts_booking_is_their_own) {
  s.as_host("host-7", "Hana");
  auto d = s.run(request_booking{ids::customer{"c1"}, {}, "Lesson", 60, {}, {}, {}, {}, "staff"});
  const auto& r = scenario::only<session_requested>(d);
  EXPECT_EQ(r.host_id, ids::user{"host-7"});
  EXPECT_EQ(r.host_name, "Hana");
  auto other = s.when(request_booking{
      ids::customer{"c1"}, {}, "Lesson", 60, {}, ids::user{"host-8"}, {}, {}, "staff"});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.err().code, errc::forbidden);
  EXPECT_EQ(other.err().fields.at(0).field, "host_id");
}

TEST_F(december, the_public_and_customers_cannot_set_host_meeting_link_or_price) {
  for (const char* via : {"public", "customer"}) {
    request_booking b{ids::customer{"c1"}, {}, "Intro", 30, {}, {}, {}, {}, via};
    b.host_id = ids::user{"host-7"};
    b.meeting_url = "https://meet.example/x";
    b.price_cents = 0;
    auto d = s.when(b);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.err().code, errc::forbidden);
    std::vector<std::string> fields;
    for (const auto& f : d.err().fields) fields.push_back(f.field);
    EXPECT_EQ(fields, (std::vector<std::string>{"host_id", "meeting_url", "price_cents"}));
  }
}

TEST_F(december, staff_create_a_booking_already_quoted_or_booked_in_one_command) {
  request_booking quoted{ids::customer{"c1"}, {}, "Intro", 30, {}, {}, {}, {}, "staff"};
  quoted.price_cents = 800;
  auto q = s.run(quoted);
  ASSERT_EQ(q.events.size(), 2u);
  const auto qid = scenario::only<session_requested>(q).session_id;
  EXPECT_EQ(scenario::only<session_quoted>(q, 1).price_cents, 800);
  EXPECT_EQ(session(qid).status, session_status::quoted);

  request_booking booking{ids::customer{"c1"},
                          {},
                          "Intro",
                          45,
                          start,
                          ids::user{"host-7"},
                          std::string("https://meet.example/y"),
                          {},
                          "staff"};
  booking.price_cents = 1200;
  booking.host_name = "Hana";
  auto b = s.run(booking);
  ASSERT_EQ(b.events.size(), 3u);
  const auto& e = scenario::only<session_booked>(b, 2);
  EXPECT_EQ(e.scheduled_end, start + 45min);
  EXPECT_EQ(e.price_cents, 1200);
  const auto bid = scenario::only<session_requested>(b).session_id;
  EXPECT_EQ(session(bid).status, session_status::booked);
  EXPECT_EQ(view(bid).host_name, "Hana");
  EXPECT_EQ(view(bid).join_opens_at, start - 5min);
  EXPECT_EQ(view(bid).no_show_allowed_from, start + 14min);  // floor(45 × 33 %)
}

// ---- details, windows, feedback ---------------------------------------

TEST_F(december, details_change_while_open_and_the_price_while_nothing_is_charged) {
  const auto id = booked(1000);
  auto d =
      s.run(change_session_details{id, std::string("Tax return"), std::string("bring the receipts"),
                                   std::string("https://meet.example/z"), 1500});
  const auto& e = scenario::only<session_details_changed>(d);
  EXPECT_EQ(e.changed, (std::vector<std::string>{"title", "notes", "meeting_url", "price_cents"}));
  EXPECT_EQ(e.previous_price_cents, 1000);
  EXPECT_EQ(e.changed_by, ids::user{"staff-1"});
  EXPECT_EQ(view(id).title, "Tax return");
  EXPECT_EQ(view(id).price_cents, 1500);
  EXPECT_EQ(view(id).amount_due_cents, 1500);
  ASSERT_EQ(view(id).notes.size(), 1u);
  EXPECT_EQ(view(id).notes.at(0).text, "bring the receipts");
  // The same again changes nothing.
  EXPECT_TRUE(
      s.run(change_session_details{id, std::string("Tax return"), {}, {}, {}}).events.empty());
  // Invoiced at its price: the price stays.
  s.run(invoice_session{id});
  EXPECT_EQ(s.when(change_session_details{id, {}, {}, {}, 1}).err().code, errc::already_invoiced);
  // Not on other kinds; not once ended.
  s.given({resource_registered{ids::resource{"r"}, "PC", 600}});
  auto m =
      scenario::only<session_started>(
          s.run(start_session{session_kind::metered, ids::customer{"c1"}, ids::resource{"r"}, {}}))
          .session_id;
  EXPECT_EQ(s.when(change_session_details{m, {}, {}, {}, 100}).err().fields.at(0).field,
            "price_cents");
  EXPECT_TRUE(s.when(change_session_details{m, std::string("Evening"), {}, {}, {}}));
  s.run(cancel_session{id, {}});
  EXPECT_EQ(s.when(change_session_details{id, std::string("x"), {}, {}, {}}).err().code,
            errc::invalid_state);
}

TEST_F(december, a_charged_price_does_not_change) {
  const auto id = booked(1000);
  s.now = start;
  s.run(start_appointment{id});
  s.now = start + 50min;
  auto d = s.when(change_session_details{id, {}, {}, {}, 10});
  ASSERT_TRUE(d);  // active, nothing charged yet
  s.run(end_session{id});
  EXPECT_EQ(s.when(change_session_details{id, {}, {}, {}, 10}).err().code, errc::invalid_state);
}

TEST_F(december, a_view_carries_the_windows_of_the_rules) {
  const auto id = booked(1000);
  s.now = start - 6min;
  EXPECT_EQ(view(id).joinable, false);
  s.now = start - 5min;
  EXPECT_EQ(view(id).joinable, true);
  EXPECT_EQ(view(id).no_show_allowed_from, start + 19min);  // floor(60 × 33 %)
  EXPECT_FALSE(view(id).min_payable_until);                 // not started
  s.run(start_appointment{id});
  EXPECT_EQ(view(id).min_payable_until, start - 5min + 39min);  // floor(60 × 66 %)
  tenant_settings wide;
  wide.join_window_minutes = 15;
  EXPECT_EQ(render(session(id), s.now, view_options{true, &wide}).join_opens_at, start - 15min);
  s.now = start + 61min;
  EXPECT_EQ(view(id).joinable, false);
}

TEST_F(december, the_customer_rates_an_ended_session_once) {
  const auto id = booked(1000);
  s.as_customer("c1");
  EXPECT_EQ(s.when(give_feedback{id, 5, {}}).err().code, errc::invalid_state);  // not ended
  s.as_admin();
  s.run(cancel_session{id, {}});
  EXPECT_EQ(s.when(give_feedback{id, 5, {}}).err().code, errc::forbidden);  // staff
  s.as_customer("c2");
  EXPECT_EQ(s.when(give_feedback{id, 5, {}}).err().code, errc::not_found);  // not theirs
  s.as_customer("c1");
  EXPECT_EQ(s.when(give_feedback{id, 6, {}}).err().fields.at(0).field, "rating");
  auto d = s.run(give_feedback{id, 4, std::string("kind and clear")});
  EXPECT_EQ(scenario::only<feedback_given>(d).kind, session_kind::appointment);
  EXPECT_EQ(view(id).feedback->rating, 4);
  EXPECT_EQ(s.when(give_feedback{id, 5, {}}).err().code, errc::already_exists);
}

// ---- old histories ------------------------------------------------------

// Events written before December carry none of the new fields: they replay
// to the state they always gave, and the new fields are read from what they
// said.
TEST_F(december, old_histories_replay_unchanged) {
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

  // A sold-out removal of a whole line, as before: the line goes, the hold too.
  s.given({item_registered{ids::item{"mug"}, "Mug", "pcs", 100, "B3"},
           stock_received{ids::item{"mug"}, "Mug", 5, 5}});
  auto shop = scenario::only<session_started>(
                  s.run(start_session{session_kind::shopping, ids::customer{"c1"}, {}, {}}))
                  .session_id;
  auto line = scenario::only<item_added>(s.run(add_item{shop, ids::item{"mug"}, 3, {}})).line_id;
  s.given({stock_adjusted{ids::item{"mug"}, "Mug", -3, "breakage", 2},
           item_removed{shop, line, ids::item{"mug"}, "Mug", 3, removal_reason::sold_out,
                        stock_effect::released}});
  EXPECT_TRUE(session(shop).lines.empty());
  EXPECT_EQ(s.state().item(ids::item{"mug"})->reserved, 0);
  EXPECT_EQ(s.state().item(ids::item{"mug"})->on_hand, 2);
}

}  // namespace
