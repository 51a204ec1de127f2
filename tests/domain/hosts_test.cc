// DOMAIN.md "Appointments" and the roles: appointments belong to their host
// (a host sees and acts on only their own; shopping and metered sessions are
// everyone's), what the public may say in a booking, and bookings quoted or
// booked in one command.

#include "support/booked_appointments.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

using hosts = tally::testing::booked_appointments;

TEST_F(hosts, a_host_sees_and_acts_on_only_their_own_appointments) {
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

TEST_F(hosts, a_hosts_booking_is_their_own) {
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

TEST_F(hosts, the_public_and_customers_cannot_set_host_meeting_link_or_price) {
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

TEST_F(hosts, staff_create_a_booking_already_quoted_or_booked_in_one_command) {
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

}  // namespace
