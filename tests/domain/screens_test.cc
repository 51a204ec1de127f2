// What the screens show and change (API.md, "What each screen needs"): the
// details of an open session (PATCH, null clears), a meeting link that is a
// web address, the windows of the rules on a view, and feedback.

#include "support/booked_appointments.h"

using namespace tally;
using namespace std::chrono_literals;
using tally::testing::scenario;
using tally::testing::t0;

namespace {

using screens = tally::testing::booked_appointments;

TEST_F(screens, details_change_while_open_and_the_price_while_nothing_is_charged) {
  const auto id = booked(1000);
  auto d =
      s.run(change_session_details{id, json::patch<std::string>::to("Tax return"),
                                   json::patch<std::string>::to("bring the receipts"),
                                   json::patch<std::string>::to("https://meet.example/z"), 1500});
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
      s.run(change_session_details{id, json::patch<std::string>::to("Tax return"), {}, {}, {}})
          .events.empty());
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
  EXPECT_TRUE(
      s.when(change_session_details{m, json::patch<std::string>::to("Evening"), {}, {}, {}}));
  s.run(cancel_session{id, {}});
  EXPECT_EQ(
      s.when(change_session_details{id, json::patch<std::string>::to("x"), {}, {}, {}}).err().code,
      errc::invalid_state);
}

TEST_F(screens, a_charged_price_does_not_change) {
  const auto id = booked(1000);
  s.now = start;
  s.run(start_appointment{id});
  s.now = start + 50min;
  auto d = s.when(change_session_details{id, {}, {}, {}, 10});
  ASSERT_TRUE(d);  // active, nothing charged yet
  s.run(end_session{id});
  EXPECT_EQ(s.when(change_session_details{id, {}, {}, {}, 10}).err().code, errc::invalid_state);
}

TEST_F(screens, a_view_carries_the_windows_of_the_rules) {
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

TEST_F(screens, the_customer_rates_an_ended_session_once) {
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

using text_patch = json::patch<std::string>;

TEST_F(screens, null_clears_a_title_notes_or_meeting_link_and_an_empty_change_names_the_body) {
  const auto id = booked(1000);
  s.run(change_session_details{id,
                               text_patch::to("Tax return"),
                               text_patch::to("receipts"),
                               text_patch::to("https://meet.example/a"),
                               {}});
  auto d = s.run(
      change_session_details{id, text_patch::null(), text_patch::null(), text_patch::null(), {}});
  const auto& e = scenario::only<session_details_changed>(d);
  EXPECT_EQ(e.changed, (std::vector<std::string>{"title", "notes", "meeting_url"}));
  EXPECT_EQ(e.cleared, (std::vector<std::string>{"title", "notes", "meeting_url"}));
  EXPECT_FALSE(view(id).title);
  EXPECT_FALSE(view(id).meeting_url);
  EXPECT_TRUE(view(id).notes.empty());
  // Cleared again: nothing changes, no event.
  EXPECT_TRUE(s.run(change_session_details{id, text_patch::null(), {}, {}, {}}).events.empty());
  auto empty = s.when(change_session_details{id, {}, {}, {}, {}});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.err().code, errc::invalid_request);
  EXPECT_EQ(empty.err().fields.at(0).field, "body");
}

TEST_F(screens, a_meeting_link_is_an_absolute_web_address_wherever_it_is_set) {
  const auto id = booked(1000);
  const std::string too_long = "https://meet.example/" + std::string(2048, 'a');
  for (const std::string& bad : std::vector<std::string>{
           "javascript:alert(1)", "JavaScript:alert(1)", "ftp://meet.example/x", "https://",
           "//meet.example/x", "https://meet example/x", "https://@evil", "data:text/html,x",
           too_long}) {
    auto patched = s.when(change_session_details{id, {}, {}, text_patch::to(bad), {}});
    ASSERT_FALSE(patched) << bad;
    EXPECT_EQ(patched.err().fields.at(0).field, "meeting_url") << bad;
    request_booking b{ids::customer{"c1"}, {},  "Intro", 30,     start,
                      ids::user{"host-7"}, bad, {},      "staff"};
    auto booked_with = s.when(b);
    ASSERT_FALSE(booked_with) << bad;
    EXPECT_EQ(booked_with.err().fields.at(0).field, "meeting_url") << bad;
  }
  for (const std::string good : {"https://meet.example/x?room=1#a", "HTTP://10.0.0.2:8443/room"})
    EXPECT_TRUE(s.when(change_session_details{id, {}, {}, text_patch::to(good), {}})) << good;
}

}  // namespace
