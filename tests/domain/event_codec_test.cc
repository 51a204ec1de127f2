// The log never holds an event its own reader refuses (ARCHITECTURE.md,
// issue #27): for every event type, with extreme and hostile field values,
// what encode_cloud_event writes decode_cloud_event reads back to the same
// value, and an event that would not read back (a string that is not UTF-8,
// an integer beyond 2^53-1) has no hash_to_append, so it never reaches the
// log. tests/fuzz/event_codec_fuzz.cc runs the same property on the
// fuzzer's bytes.

#include "domain/event_codec.h"
#include "domain/chain.h"
#include "support/event_values.h"

#include <gtest/gtest.h>

#include <random>

using namespace tally;
using tally::testing::event_values;

namespace {

struct seeded {
  std::mt19937_64 rng;
  std::uint64_t next() { return rng(); }
};

constexpr std::size_t per_type = 400;

TEST(event_codec, every_event_type_reads_back_to_the_value_it_was_written_with) {
  seeded source{std::mt19937_64(20261207)};
  event_values<seeded> values(source, false);
  std::size_t checked = 0;
  for (std::size_t type = 0; type < std::variant_size_v<event_data>; ++type) {
    for (std::size_t n = 0; n < per_type; ++n) {
      event e = values.make_event(type);
      SCOPED_TRACE(std::string(type_of(e.data)));
      auto hash = hash_to_append(e);
      ASSERT_TRUE(hash) << hash.err().detail;
      e.hash = *hash;
      const std::string text = encode_cloud_event(e);
      std::string why;
      auto back = decode_cloud_event(text, &why);
      ASSERT_TRUE(back) << why << "\n" << text;
      // The same value: written again it is the same text, with the same
      // hash, and every envelope attribute came back.
      EXPECT_EQ(encode_cloud_event(*back), text);
      EXPECT_EQ(chain_hash(*back), e.hash);
      EXPECT_EQ(back->stream, e.stream);
      EXPECT_EQ(back->time, e.time);
      EXPECT_EQ(back->actor, e.actor);
      EXPECT_EQ(back->actor_name, e.actor_name);
      EXPECT_EQ(back->idempotency_key, e.idempotency_key);
      ++checked;
    }
  }
  std::printf("event_codec: %zu events of %zu types read back\n", checked,
              std::variant_size_v<event_data>);
}

TEST(event_codec, an_event_that_would_not_read_back_has_no_hash_and_is_never_appended) {
  seeded source{std::mt19937_64(27)};
  event_values<seeded> values(source, true);
  std::size_t refused = 0, taken = 0, unreadable_when_written = 0;
  for (std::size_t type = 0; type < std::variant_size_v<event_data>; ++type) {
    for (std::size_t n = 0; n < per_type; ++n) {
      event e = values.make_event(type);
      SCOPED_TRACE(std::string(type_of(e.data)));
      auto hash = hash_to_append(e);
      // Refused exactly when a value that is not I-JSON went in.
      ASSERT_EQ(!hash, values.injected()) << (hash ? "" : hash.err().detail);
      if (!hash) {
        ++refused;
        EXPECT_NE(hash.err().detail.find(": is "), std::string::npos) << hash.err().detail;
        // What the refusal prevents: written anyway, it would not have read
        // back, or not as the same value.
        const std::string text = encode_cloud_event(e);
        auto back = decode_cloud_event(text);
        if (!back || encode_cloud_event(*back) != text || chain_hash(*back) != chain_hash(e))
          ++unreadable_when_written;
        continue;
      }
      ++taken;
      e.hash = *hash;
      const std::string text = encode_cloud_event(e);
      auto back = decode_cloud_event(text);
      ASSERT_TRUE(back) << text;
      EXPECT_EQ(encode_cloud_event(*back), text);
    }
  }
  std::printf("event_codec: %zu hostile events refused, %zu taken and read back\n", refused, taken);
  EXPECT_GT(refused, 100u);
  EXPECT_GT(taken, 100u);
  // Most refusals are events that would have stopped the log's readers (a
  // string that is not UTF-8); the rest hold an integer a reader rounds.
  EXPECT_GT(unreadable_when_written, refused / 4);
}

TEST(event_codec, a_type_this_version_does_not_know_says_so) {
  std::string why;
  EXPECT_FALSE(decode_cloud_event(R"({"specversion":"1.0","id":"x","type":"Teleported",
      "source":"/tenants/acme","tenant":"acme","stream":"session-s1","streamversion":1,
      "time":"2026-12-07T00:00:00.000Z","actor":"u","data":{}})",
                                  &why));
  EXPECT_NE(why.find("Teleported is not an event type"), std::string::npos) << why;
  EXPECT_FALSE(decode_cloud_event("{\"tenant\":\"acme\",\xff}", &why));
  EXPECT_NE(why.find("not a CloudEvent"), std::string::npos) << why;
  EXPECT_EQ(tenant_named_in("{\"tenant\":\"acme\",\xff garbage"), ids::tenant{"acme"});
  EXPECT_FALSE(tenant_named_in("\x00\xff garbage"));
}

}  // namespace
