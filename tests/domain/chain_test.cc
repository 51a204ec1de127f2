// The tenant's hash chain (issue #11): each event hashes the JCS form of
// itself with its predecessor's hash; any change, removal, insertion or
// reordering is found at the first event it breaks.

#include "domain/chain.h"
#include "domain/event_codec.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <vector>

namespace tally {
namespace {

// A tenant's chain of n customer registrations, as GET /v1/events serves them.
std::vector<std::string> chain_of(int n) {
  std::vector<std::string> out;
  std::string head(genesis_hash);
  for (int i = 0; i < n; ++i) {
    event e;
    e.id = ids::event{"e" + std::to_string(i)};
    e.tenant = ids::tenant{"acme"};
    customer_registered d;
    d.customer_id = ids::customer{"c" + std::to_string(i)};
    d.name = "Customer \xe2\x82\xac " + std::to_string(i);  // not ASCII: JCS keeps it as is
    e.data = d;
    e.stream = stream_of(e.tenant, e.data);
    e.stream_version = version{1};
    e.time = timestamp{} + std::chrono::milliseconds(1'700'000'000'000 + i);
    e.actor = ids::user{"admin"};
    e.correlation_id = "k";
    e.prevhash = head;
    e.hash = chain_hash(e);
    head = e.hash;
    std::string json = encode_cloud_event(e);
    out.push_back(R"({"position":"0:)" + std::to_string(i) + "\"," + json.substr(1));
  }
  return out;
}

std::pair<bool, std::string> verify(const std::vector<std::string>& events) {
  chain_verifier v;
  for (const auto& e : events)
    if (!v.add(e)) break;
  return {v.ok(), v.ok() ? "" : v.failed_position() + ": " + *v.failure()};
}

TEST(chain, an_untouched_chain_verifies_and_its_head_is_the_last_hash) {
  const auto events = chain_of(5);
  chain_verifier v;
  for (const auto& e : events) EXPECT_TRUE(v.add(e));
  EXPECT_EQ(v.events(), 5);
  EXPECT_NE(v.head(), genesis_hash);
  EXPECT_NE(events[4].find(v.head()), std::string::npos);
  // The first event's prevhash is 64 zeros.
  EXPECT_NE(events[0].find(R"("prevhash":")" + std::string(genesis_hash)), std::string::npos);
}

TEST(chain, a_changed_byte_a_removed_an_inserted_or_two_swapped_events_are_found_where_they_are) {
  const auto events = chain_of(6);
  {
    auto changed = events;
    const auto at = changed[3].find("Customer");
    changed[3][at] = 'K';
    EXPECT_EQ(verify(changed),
              (std::pair<bool, std::string>{
                  false, "0:3: the hash does not match the event (it was changed)"}));
  }
  {
    auto removed = events;
    removed.erase(removed.begin() + 2);
    auto [ok, why] = verify(removed);
    EXPECT_FALSE(ok);
    EXPECT_EQ(why.substr(0, 5), "0:3: ");  // the event after the gap
  }
  {
    auto inserted = events;
    inserted.insert(inserted.begin() + 4, chain_of(2)[1]);
    auto [ok, why] = verify(inserted);
    EXPECT_FALSE(ok);
    EXPECT_EQ(why.substr(0, 5), "0:1: ");  // the stranger, at its own position
  }
  {
    auto swapped = events;
    std::swap(swapped[1], swapped[2]);
    auto [ok, why] = verify(swapped);
    EXPECT_FALSE(ok);
    EXPECT_EQ(why.substr(0, 5), "0:2: ");
  }
  {
    auto rehashed = events;  // changed and its own hash fixed: the next one breaks
    event e = *decode_cloud_event(rehashed[2]);
    std::get<customer_registered>(e.data).name = "Mallory";
    e.hash = chain_hash(e);
    rehashed[2] = R"({"position":"0:2",)" + encode_cloud_event(e).substr(1);
    auto [ok, why] = verify(rehashed);
    EXPECT_FALSE(ok);
    EXPECT_EQ(why.substr(0, 5), "0:3: ");
  }
}

TEST(chain, the_hash_is_of_the_canonical_form_so_member_order_and_spacing_do_not_matter) {
  const auto events = chain_of(1);
  auto v = boost::json::parse(events[0]).as_object();
  // Members in another order, with spaces: the same event.
  std::string reordered = "{ ";
  bool first = true;
  std::vector<std::string> keys;
  for (const auto& kv : v) keys.emplace_back(kv.key());
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    reordered += (first ? "" : " , ") + boost::json::serialize(boost::json::string(*it)) + " : " +
                 boost::json::serialize(v.at(*it));
    first = false;
  }
  reordered += " }";
  chain_verifier c;
  EXPECT_TRUE(c.add(reordered)) << c.failure().value_or("");
}

}  // namespace
}  // namespace tally
