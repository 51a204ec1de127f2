// The read side on an old or foreign history (issue #27): sums of money
// past 2^53 stay exact (they used to make a customer vanish, wipe the day's
// analytics and stop the projector for good); a tenant's stop is kept where
// it happened and holds only that tenant's later events.

#include "infra/ports/tenant_stops.h"
#include "projections/read_side_fixture.h"

using namespace tally;

namespace {

using tally::testing::read_side;

TEST_F(read_side, sums_past_2_53_of_an_old_history_stay_exact_and_the_customer_stays) {
  constexpr cents big = (std::int64_t{1} << 53) - 1;
  const ids::customer c{"c1"};
  append(customer_registered{c, "Ann", {}, {}, false});
  for (const char* inv : {"i1", "i2"}) {
    invoice_issued issued;
    issued.invoice_id = ids::invoice{inv};
    issued.customer_id = c;
    issued.customer_name = "Ann";
    issued.total_cents = big;
    issued.issued_at = clock.now();
    append(issued);
    append(payment_recorded{
        {}, ids::invoice{inv}, c, ids::payment{inv}, big, "cash", big, payment_status::paid});
  }
  const cents both = 2 * big;  // past 2^53: what the reader used to refuse
  for (int start = 0; start < 2; ++start) {
    SCOPED_TRACE(start ? "after a restart" : "first start");
    projections::projector projector(*log, views);
    ASSERT_TRUE(projector.catch_up());
    EXPECT_TRUE(projector.stops().all().empty());
    projections::queries q(views, clock);
    EXPECT_EQ(number(q.customer(ids::tenant{"acme"}, c), "total_paid_cents"), both);
    auto listed = q.customers(ids::tenant{"acme"}, {}, {});
    ASSERT_TRUE(listed);
    EXPECT_NE(listed->find("\"c1\""), std::string::npos) << *listed;
    EXPECT_EQ(number(q.analytics(ids::tenant{"acme"}, {}, {}), "paid_cents"), both);
    EXPECT_EQ(number(q.analytics(ids::tenant{"acme"}, {}, {}), "invoiced_cents"), both);
    EXPECT_EQ(number(q.customer_stats(ids::tenant{"acme"}, c), "lifetime_value_cents"), both);
  }
  // The next event about the customer is applied, not a stop.
  append(customer_updated{c, "Ann B", {}, {}, {}});
  projections::projector projector(*log, views);
  ASSERT_TRUE(projector.catch_up());
  EXPECT_TRUE(projector.stops().all().empty());
  projections::queries q(views, clock);
  auto read = q.customer(ids::tenant{"acme"}, c);
  ASSERT_TRUE(read);
  EXPECT_NE(read->find("Ann B"), std::string::npos);
}

TEST(tenant_stops, a_stop_holds_its_tenants_later_events_and_is_kept_with_the_checkpoint) {
  tally::testing::memory_kv store;
  ports::tenant_stops stops("m/stopped/");
  EXPECT_FALSE(stops.stopped(ids::tenant{"acme"}));
  ports::kv_batch batch;
  EXPECT_TRUE(stops.stop({"acme", {0, 5}, "an event that cannot be read"}, batch));
  EXPECT_TRUE(stops.stop({"", {0, 9}, "no tenant to tell"}, batch));
  // The first stop is kept; the same one met again is written again.
  ports::kv_batch again;
  EXPECT_FALSE(stops.stop({"acme", {0, 7}, "later"}, again));
  EXPECT_TRUE(again.empty());
  EXPECT_FALSE(stops.stop({"acme", {0, 5}, "an event that cannot be read"}, again));
  EXPECT_EQ(again.puts.size(), 1u);
  ASSERT_TRUE(store.write(batch));
  EXPECT_FALSE(stops.stopped_before(ids::tenant{"acme"}, {0, 4}));
  EXPECT_TRUE(stops.stopped_before(ids::tenant{"acme"}, {0, 5}));
  EXPECT_FALSE(stops.stopped(ids::tenant{"globex"}));
  ports::tenant_stops loaded("m/stopped/");
  loaded.load(store);
  ASSERT_EQ(loaded.all().size(), 2u);
  ASSERT_TRUE(loaded.stop_of(ids::tenant{"acme"}));
  EXPECT_EQ(loaded.stop_of(ids::tenant{"acme"})->pos, (ports::position{0, 5}));
  EXPECT_EQ(loaded.stop_of(ids::tenant{"acme"})->reason, "an event that cannot be read");
  EXPECT_FALSE(loaded.stopped(ids::tenant{""}));  // a record of no tenant stops no one
}

}  // namespace
