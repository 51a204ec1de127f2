// DOMAIN.md "Appointments" (seeds 002, 003, 004), every rule at its exact
// boundary: booking, the join window, no-show waits and fees, the minimum
// payable duration, automatic completion, splits, invoicing and credit notes.

#include "support/scenario.h"

#include "domain/pricing.h"
#include "domain/views.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

struct appointments : ::testing::Test {
  scenario s;
  ids::session id;
  const timestamp start = t0() + 24h;

  void SetUp() override {
    s.given({customer_registered{
        ids::customer{"c1"}, "Cleo", std::string("cleo@example.com"), {}, false}});
    id = request(60);
  }
  ids::session request(std::int64_t minutes) {
    auto d = s.run(
        request_booking{ids::customer{"c1"}, {}, "Tax advice", minutes, {}, {}, {}, {}, "staff"});
    return scenario::only<session_requested>(d, d.events.size() - 1).session_id;
  }
  void book(const ids::session& which, cents price, std::int64_t minutes = 60) {
    s.run(book_session{which, start, minutes, price, ids::user{"host-7"}});
  }
  void set_now(timestamp t) { s.now = t; }
  static std::pair<cents, cents> host_platform(const charge_processed& c) {
    cents host = 0, platform = 0;
    for (const auto& sp : c.splits) (sp.party == party::host ? host : platform) += sp.amount_cents;
    return {host, platform};
  }
};

TEST_F(appointments, a_public_booking_finds_the_customer_by_email_or_registers_one) {
  auto known = s.run(request_booking{
      {}, new_customer{"Cleo C.", "CLEO@example.com", {}}, "Intro", 30, {}, {}, {}, {}, "public"});
  ASSERT_EQ(known.events.size(), 1u);
  EXPECT_EQ(scenario::only<session_requested>(known).customer.customer_id.value, "c1");
  auto fresh = s.run(request_booking{
      {}, new_customer{"Dan", "dan@example.com", {}}, "Intro", 30, {}, {}, {}, {}, "public"});
  ASSERT_EQ(fresh.events.size(), 2u);
  const auto& registered = scenario::only<customer_registered>(fresh, 0);
  EXPECT_EQ(scenario::only<session_requested>(fresh, 1).customer.customer_id,
            registered.customer_id);
  EXPECT_EQ(scenario::only<session_requested>(fresh, 1).requested_via, "public");
}

TEST_F(appointments, booking_needs_start_duration_price_and_host_by_then) {
  auto d = s.when(book_session{id, {}, {}, {}, {}});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().code, errc::invalid_request);
  std::vector<std::string> fields;
  for (const auto& f : d.err().fields) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"scheduled_start", "price_cents", "host_id"}));
  s.run(quote_session{id, 1000});
  EXPECT_EQ(s.state().session(id)->status, session_status::quoted);
  s.run(book_session{id, start, {}, {}, ids::user{"host-7"}});
  EXPECT_EQ(s.state().session(id)->status, session_status::booked);
  EXPECT_EQ(s.state().session(id)->price_cents, 1000);
}

TEST_F(appointments, only_requested_or_quoted_can_be_booked_and_only_booked_rescheduled) {
  EXPECT_EQ(s.when(reschedule_session{id, start, {}}).err().code, errc::invalid_state);
  book(id, 1000);
  EXPECT_EQ(s.when(book_session{id, start, 60, 1000, ids::user{"h"}}).err().code,
            errc::invalid_state);
  auto d = s.run(reschedule_session{id, start + 2h, 90});
  EXPECT_EQ(scenario::only<session_rescheduled>(d).previous_start, start);
  EXPECT_EQ(*s.state().session(id)->scheduled_end(), start + 2h + 90min);
}

TEST_F(appointments, start_is_allowed_from_five_minutes_before_until_the_scheduled_end) {
  book(id, 1000);
  set_now(start - 5min - 1ms);
  EXPECT_EQ(s.when(start_appointment{id}).err().code, errc::too_early);
  set_now(start - 5min);
  EXPECT_TRUE(s.when(start_appointment{id}));
  set_now(start + 60min);
  EXPECT_TRUE(s.when(start_appointment{id}));
  set_now(start + 60min + 1ms);
  EXPECT_EQ(s.when(start_appointment{id}).err().code, errc::too_late);
  set_now(start);
  s.run(start_appointment{id});
  EXPECT_EQ(s.state().session(id)->status, session_status::active);
  EXPECT_EQ(s.when(start_appointment{id}).err().code, errc::invalid_state);
}

TEST_F(appointments, a_no_show_may_be_marked_after_the_floor_of_33_percent_of_the_duration) {
  book(id, 1000);  // 60 min: floor(19.8) = 19 min
  set_now(start + 19min - 1ms);
  EXPECT_EQ(s.when(mark_no_show{id, {}}).err().code, errc::too_early);
  set_now(start + 19min);
  auto d = s.run(mark_no_show{id, {}});
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::no_show);
  const auto& fee = scenario::only<charge_processed>(d, 1);
  EXPECT_EQ(fee.reason, charge_reason::no_show_fee);
  EXPECT_EQ(fee.amount_cents, 500);
  EXPECT_EQ(host_platform(fee), (std::pair<cents, cents>{450, 50}));
}

TEST_F(appointments, attendance_is_recorded_and_a_join_refuses_that_partys_no_show) {
  book(id, 1000);
  set_now(start + 2min);
  auto joined = s.run(record_attendance{id, attendee::customer, attendance_change::joined,
                                        start + 1min, std::string("meet")});
  const auto& e = scenario::only<attendance_recorded>(joined);
  EXPECT_EQ(e.at, start + 1min);
  EXPECT_EQ(e.source, "meet");
  s.run(record_attendance{id, attendee::customer, attendance_change::left, {}, {}});
  auto view = render(*s.state().session(id), s.now);
  ASSERT_EQ(view.attendance.size(), 2u);
  EXPECT_EQ(view.attendance[1].action, attendance_change::left);
  EXPECT_EQ(view.attendance[1].at, s.now);  // default: now
  set_now(start + 30min);
  // The customer joined (and left): not a no-show, whatever happened after.
  EXPECT_EQ(s.when(mark_no_show{id, absent_party::customer}).err().code, errc::attended);
  // The host never joined: the host's no-show stands.
  auto d = s.run(mark_no_show{id, absent_party::host});
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::no_show);
  // Only for appointments that are booked or active.
  EXPECT_EQ(
      s.when(record_attendance{id, attendee::host, attendance_change::joined, {}, {}}).err().code,
      errc::invalid_state);
}

TEST_F(appointments, the_no_show_wait_floors_for_short_sessions) {
  auto ten = request(10);
  book(ten, 1000, 10);  // floor(3.3) = 3 min
  set_now(start + 3min - 1ms);
  EXPECT_EQ(s.when(mark_no_show{ten, {}}).err().code, errc::too_early);
  set_now(start + 3min);
  EXPECT_TRUE(s.when(mark_no_show{ten, {}}));
}

TEST_F(appointments, awkward_prices_split_exactly) {
  book(id, 999);
  set_now(start + 20min);
  auto d = s.run(mark_no_show{id, {}});
  const auto& fee = scenario::only<charge_processed>(d, 1);
  EXPECT_EQ(fee.amount_cents, 500);  // 499.5 rounds half up
  auto [host, platform] = host_platform(fee);
  EXPECT_EQ(platform, 50);
  EXPECT_EQ(host + platform, fee.amount_cents);
}

TEST_F(appointments, a_host_no_show_charges_nothing_and_works_from_active_too) {
  book(id, 1000);
  set_now(start);
  s.run(start_appointment{id});
  set_now(start + 30min);
  auto d = s.run(mark_no_show{id, absent_party::host});
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(scenario::only<session_ended>(d).reason, "host absent");
  EXPECT_EQ(s.when(mark_no_show{id, {}}).err().code, errc::invalid_state);
}

TEST_F(appointments, ending_after_the_floor_of_66_percent_charges_the_full_price) {
  book(id, 999);  // 60 min: floor(39.6) = 39 min
  set_now(start);
  s.run(start_appointment{id});
  set_now(start + 39min);
  auto d = s.run(end_session{id});
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::completed);
  const auto& c = scenario::only<charge_processed>(d, 1);
  EXPECT_EQ(c.reason, charge_reason::booked_price);
  EXPECT_EQ(c.amount_cents, 999);
  EXPECT_EQ(host_platform(c), (std::pair<cents, cents>{900, 99}));
}

TEST_F(appointments, ending_earlier_is_short_uncharged_and_waits_for_an_admin) {
  book(id, 1000);
  set_now(start + 1min);
  s.run(start_appointment{id});
  set_now(start + 1min + 39min - 1ms);
  auto d = s.run(end_session{id});
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::early_end_short);
  auto resolved = s.run(resolve_session{id, 300, "partial session agreed"});
  const auto& c = scenario::only<charge_processed>(resolved);
  EXPECT_EQ(c.reason, charge_reason::manual);
  EXPECT_EQ(host_platform(c), (std::pair<cents, cents>{270, 30}));
  EXPECT_EQ(s.when(resolve_session{id, 0, "again"}).err().code, errc::invalid_state);
}

TEST_F(appointments, resolve_may_charge_zero_and_only_for_early_end_short) {
  book(id, 1000);
  EXPECT_EQ(s.when(resolve_session{id, 0, "x"}).err().code, errc::invalid_state);
  set_now(start);
  s.run(start_appointment{id});
  s.run(end_session{id});
  auto d = s.run(resolve_session{id, 0, "goodwill"});
  EXPECT_EQ(scenario::only<charge_processed>(d).amount_cents, 0);
}

TEST_F(appointments, at_the_scheduled_end_a_booked_or_active_appointment_completes_once) {
  book(id, 1000);
  set_now(start + 60min - 1ms);
  EXPECT_TRUE(s.run(expire_session{id}).events.empty());
  set_now(start + 3h);  // the server was down at the end: it still happens, once
  auto d = s.run(expire_session{id});
  const auto& ended = scenario::only<session_ended>(d);
  EXPECT_EQ(ended.outcome, session_outcome::completed_assumed);
  EXPECT_EQ(ended.ended_at, start + 60min);
  EXPECT_EQ(scenario::only<charge_processed>(d, 1).amount_cents, 1000);
  EXPECT_TRUE(s.run(expire_session{id}).events.empty());
}

TEST_F(appointments, payment_in_advance_is_against_the_price) {
  book(id, 1000);
  auto d = s.run(record_payment{id, {}, 1000, "card"});
  EXPECT_EQ(scenario::only<payment_recorded>(d).status, payment_status::paid);
}

TEST_F(appointments, invoicing_is_on_request_once_until_a_full_credit_note) {
  EXPECT_EQ(s.when(invoice_session{id}).err().code, errc::invalid_state);  // requested
  book(id, 1000);
  auto first = scenario::only<invoice_issued>(s.run(invoice_session{id}));
  EXPECT_EQ(first.number, "INV-000001");
  EXPECT_EQ(first.total_cents, 1000);
  EXPECT_EQ(s.when(invoice_session{id}).err().code, errc::already_invoiced);
  // A partial credit note does not free the session for a new invoice.
  auto partial = s.run(issue_credit_note{first.invoice_id, "discount",
                                         std::vector<new_invoice_line>{{"Discount", 1, 200}}});
  EXPECT_EQ(scenario::only<credit_note_issued>(partial).number, "CN-000001");
  EXPECT_FALSE(scenario::only<credit_note_issued>(partial).full);
  EXPECT_EQ(s.when(invoice_session{id}).err().code, errc::already_invoiced);
  // Never more than is left.
  auto too_much = s.when(
      issue_credit_note{first.invoice_id, "x", std::vector<new_invoice_line>{{"All", 1, 801}}});
  ASSERT_FALSE(too_much);
  EXPECT_EQ(too_much.err().code, errc::credit_exceeds_invoice);
  // The default credits all that is left; then a new invoice is allowed.
  auto rest = scenario::only<credit_note_issued>(
      s.run(issue_credit_note{first.invoice_id, "cancelled", {}}));
  EXPECT_EQ(rest.total_cents, 800);
  EXPECT_TRUE(rest.full);
  EXPECT_EQ(rest.number, "CN-000002");
  EXPECT_EQ(s.when(issue_credit_note{first.invoice_id, "x", {}}).err().code,
            errc::credit_exceeds_invoice);
  EXPECT_EQ(scenario::only<invoice_issued>(s.run(invoice_session{id})).number, "INV-000002");
}

TEST_F(appointments, an_ended_appointment_is_invoiced_for_its_charges_only) {
  book(id, 1000);
  set_now(start + 20min);
  s.run(mark_no_show{id, absent_party::host});
  EXPECT_EQ(s.when(invoice_session{id}).err().code, errc::invalid_state);  // nothing charged
  auto other = request(60);
  book(other, 800);
  set_now(start + 30min);
  s.run(mark_no_show{other, {}});
  auto inv = scenario::only<invoice_issued>(s.run(invoice_session{other}));
  ASSERT_EQ(inv.lines.size(), 1u);
  EXPECT_EQ(inv.total_cents, 400);
}

TEST_F(appointments, cancel_works_before_the_start_too) {
  book(id, 1000);
  auto d = s.run(cancel_session{id, std::string("rescheduling later")});
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::cancelled);
  set_now(start + 2h);
  EXPECT_TRUE(s.run(expire_session{id}).events.empty());
}

TEST_F(appointments, attendance_lies_between_the_request_and_now) {
  book(id, 1000, 10);
  set_now(start + 1min);
  auto later = s.when(record_attendance{id,
                                        attendee::customer,
                                        attendance_change::joined,
                                        *parse_rfc3339("2030-01-01T00:00:00Z"),
                                        {}});
  ASSERT_FALSE(later);
  EXPECT_EQ(later.err().code, errc::invalid_request);
  EXPECT_EQ(later.err().fields.at(0).field, "at");
  auto earlier =
      s.when(record_attendance{id, attendee::customer, attendance_change::joined, t0() - 1min, {}});
  ASSERT_FALSE(earlier);
  EXPECT_EQ(earlier.err().fields.at(0).field, "at");
  EXPECT_TRUE(s.when(
      record_attendance{id, attendee::customer, attendance_change::joined, start + 1min, {}}));
}

// An older history recorded a "joined" dated 2030: it no longer decides the
// automatic end (it used to make a 10-minute appointment a host no-show).
TEST_F(appointments, an_older_attendance_dated_after_it_was_recorded_does_not_decide) {
  book(id, 1000, 10);
  set_now(start + 1min);
  s.given({attendance_recorded{id,
                               attendee::customer,
                               attendance_change::joined,
                               *parse_rfc3339("2030-01-01T00:00:00Z"),
                               {},
                               ids::user{"staff-1"}}});
  set_now(start + 10min);
  auto d = s.run(expire_session{id});
  EXPECT_EQ(scenario::only<session_ended>(d).outcome, session_outcome::completed_assumed);
  EXPECT_EQ(scenario::only<charge_processed>(d, 1).amount_cents, 1000);
}

}  // namespace
