#pragma once

// A tenant with one customer (c1) and appointments booked for tomorrow, at a
// price and with a host: the fixture of the rules' tests of payments, hosts,
// stock and screens (tests/domain/).

#include "support/scenario.h"

#include "domain/pricing.h"
#include "domain/views.h"

namespace tally::testing {

struct booked_appointments : ::testing::Test {
  scenario s;
  const timestamp start = t0() + std::chrono::hours(24);

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
  invoice_view invoice(const ids::invoice& id) { return render(*s.state().invoice(id)); }
};

}  // namespace tally::testing
