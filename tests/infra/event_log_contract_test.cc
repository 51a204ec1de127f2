// One contract for the event-log port (infra/ports/event_log.h), run against
// every implementation: the embedded log on RocksDB and the Kafka log on an
// in-process dev-kafka (librdkafka's mock cluster). Then what only Kafka has:
// the partitioner, and the outcomes of a transaction under faults.

#include "domain/event_codec.h"
#include "infra/dev_kafka.h"
#include "infra/embedded_log.h"
#include "infra/kafka_group.h"
#include "infra/kafka_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <thread>

using namespace tally;
namespace fs = std::filesystem;

namespace {

event make_event(const std::string& tenant, int n) {
  event e;
  e.id = ids::event{"e-" + tenant + "-" + std::to_string(n) + "-" +
                    std::to_string(std::random_device{}())};
  e.tenant = ids::tenant{tenant};
  e.stream = stream_id::of(ids::item{"tea"});
  e.stream_version = version{n + 1};
  e.time = *parse_rfc3339("2026-11-22T10:00:00Z");
  e.actor = ids::user{"u1"};
  e.correlation_id = "c";
  e.data = stock_received{ids::item{"tea"}, "Tea", 1, n + 1};
  return e;
}

// Reads a partition from `from` until the log says it is at the end.
std::vector<ports::recorded_event> read_all(const ports::event_log& log, std::int32_t partition,
                                            std::int64_t from = 0) {
  std::vector<ports::recorded_event> out;
  auto cursor = log.open(partition, from);
  EXPECT_TRUE(cursor) << cursor.err().detail;
  if (!cursor) return out;
  for (int polls = 0; polls < 200; ++polls) {
    auto b = (*cursor)->poll(100, std::chrono::milliseconds(100));
    EXPECT_TRUE(b) << b.err().detail;
    if (!b) break;
    for (auto& e : b->events) out.push_back(std::move(e));
    if (b->at_end) break;
  }
  return out;
}

struct log_factory {
  std::string name;
  std::function<std::unique_ptr<ports::event_log>(const fs::path&)> make;
};

std::unique_ptr<infra::dev_kafka> the_broker;  // one per test program: the mock starts in ms

ports::event_log* kafka_for(const fs::path&, std::unique_ptr<infra::kafka_log>& keep,
                            std::int32_t partitions) {
  // Each test gets its own topic on the one broker.
  static int topics = 0;
  infra::dev_kafka::options o;
  o.partitions = partitions;
  o.topic = "t" + std::to_string(++topics);
  o.owners_topic = o.topic + ".owners";
  auto k = infra::dev_kafka::start(o);
  EXPECT_TRUE(k);
  if (!k) return nullptr;
  infra::kafka_options ko;
  ko.bootstrap = (*k)->bootstrap();
  ko.topic = o.topic;
  auto log = infra::kafka_log::open(ko);
  EXPECT_TRUE(log) << log.err().detail;
  if (!log) return nullptr;
  for (std::int32_t p = 0; p < partitions; ++p) EXPECT_TRUE((*log)->own(p));
  the_broker = std::move(*k);
  keep = std::move(*log);
  return keep.get();
}

class contract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tally-contract-" + std::to_string(std::random_device{}()));
    if (GetParam() == "embedded") {
      embedded_ = std::move(*infra::embedded_log::open(dir_.string()));
      log_ = embedded_.get();
    } else {
      log_ = kafka_for(dir_, kafka_, 4);
      ASSERT_NE(log_, nullptr);
    }
  }
  void TearDown() override {
    kafka_.reset();
    the_broker.reset();
    embedded_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ports::event_log& log() { return *log_; }

  fs::path dir_;
  std::unique_ptr<infra::embedded_log> embedded_;
  std::unique_ptr<infra::kafka_log> kafka_;
  ports::event_log* log_ = nullptr;
};

TEST_P(contract, appended_events_are_read_back_in_order_with_increasing_positions) {
  const ids::tenant t{"acme"};
  const auto p = log().partition_of(t);
  ASSERT_GE(p, 0);
  ASSERT_LT(p, log().partition_count());
  std::vector<event> first{make_event("acme", 0), make_event("acme", 1), make_event("acme", 2)};
  auto a = log().append(p, first);
  ASSERT_TRUE(a) << a.err().detail;
  ASSERT_EQ(a->size(), 3u);
  auto b = log().append(p, {make_event("acme", 3)});
  ASSERT_TRUE(b) << b.err().detail;
  std::vector<ports::position> all = *a;
  all.push_back(b->front());
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1], all[i]);
  for (const auto& pos : all) EXPECT_EQ(pos.partition, p);

  auto read = read_all(log(), p);
  ASSERT_EQ(read.size(), 4u);
  for (std::size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].pos, all[i]);
    EXPECT_EQ(read[i].event.stream_version.value, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(read[i].cloud_event, encode_cloud_event(read[i].event));
  }
  EXPECT_EQ(read[0].event.id, first[0].id);
}

TEST_P(contract, a_cursor_after_a_checkpoint_reads_exactly_what_follows) {
  const auto p = log().partition_of(ids::tenant{"acme"});
  std::vector<ports::position> positions;
  for (int i = 0; i < 5; ++i) {
    auto a = log().append(p, {make_event("acme", i)});
    ASSERT_TRUE(a) << a.err().detail;
    positions.push_back(a->front());
  }
  // A checkpoint is the offset of the last event applied: the next read
  // starts at offset + 1, wherever the next event really is.
  auto rest = read_all(log(), p, positions[2].offset + 1);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].pos, positions[3]);
  EXPECT_EQ(rest[1].pos, positions[4]);
  EXPECT_TRUE(read_all(log(), p, positions[4].offset + 1).empty());
}

TEST_P(contract, an_idle_cursor_says_it_is_at_the_end_and_wakes_when_an_event_comes) {
  const auto p = log().partition_of(ids::tenant{"acme"});
  auto cursor = log().open(p, 0);
  ASSERT_TRUE(cursor) << cursor.err().detail;
  bool at_end = false;
  for (int i = 0; i < 100 && !at_end; ++i) {
    auto b = (*cursor)->poll(10, std::chrono::milliseconds(100));
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->events.empty());
    at_end = b->at_end;
  }
  ASSERT_TRUE(at_end);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(log().append(p, {make_event("acme", 0)}));
  });
  std::vector<ports::recorded_event> got;
  const auto start = std::chrono::steady_clock::now();
  while (got.empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    auto b = (*cursor)->poll(10, std::chrono::seconds(5));
    ASSERT_TRUE(b);
    got = std::move(b->events);
  }
  writer.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event.tenant.value, "acme");
}

TEST_P(contract, every_tenant_has_one_partition_and_its_events_stay_there) {
  std::set<std::int32_t> used;
  for (int i = 0; i < 40; ++i) {
    const ids::tenant t{"tenant-" + std::to_string(i)};
    const auto p = log().partition_of(t);
    EXPECT_EQ(p, log().partition_of(t));
    used.insert(p);
  }
  EXPECT_EQ(static_cast<std::int32_t>(used.size()), log().partition_count());
  const ids::tenant t{"tenant-7"};
  const auto p = log().partition_of(t);
  ASSERT_TRUE(log().append(p, {make_event(t.value, 0)}));
  for (std::int32_t q = 0; q < log().partition_count(); ++q) {
    const auto read = read_all(log(), q);
    EXPECT_EQ(read.size(), q == p ? 1u : 0u) << "partition " << q;
  }
}

INSTANTIATE_TEST_SUITE_P(logs, contract, ::testing::Values("embedded", "kafka"),
                         [](const auto& info) { return info.param; });

// ---- Kafka only ---------------------------------------------------------------

// The Java client's murmur2 (org.apache.kafka.common.utils.Utils.murmur2),
// written out here so that the partitioner is checked against an
// independent implementation.
std::int32_t java_murmur2(std::string_view data) {
  const std::uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
  const int r = 24;
  const auto length = static_cast<std::uint32_t>(data.size());
  std::uint32_t h = seed ^ length;
  const auto* d = reinterpret_cast<const unsigned char*>(data.data());
  for (std::uint32_t i = 0; i < length / 4; ++i) {
    std::uint32_t k = d[i * 4] | (d[i * 4 + 1] << 8) | (d[i * 4 + 2] << 16) |
                      (static_cast<std::uint32_t>(d[i * 4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3:
      h ^= static_cast<std::uint32_t>(d[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint32_t>(d[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= d[tail];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

TEST(kafka_partitioner, is_the_java_clients_murmur2) {
  // Values from Kafka's own UtilsTest.
  EXPECT_EQ(java_murmur2("21"), -973932308);
  EXPECT_EQ(java_murmur2("foobar"), -790332482);
  EXPECT_EQ(java_murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(java_murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(java_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  for (const std::string key : {"acme", "cafe-42", "a", "ab", "abc", "tenant.with.dots", ""}) {
    for (std::int32_t n : {1, 3, 4, 12, 64}) {
      EXPECT_EQ(infra::kafka_log::partition_for(key, n), (java_murmur2(key) & 0x7fffffff) % n)
          << key << " over " << n;
    }
  }
}

}  // namespace

namespace {

// A Kafka log on its own dev-kafka, with short timeouts.
struct kafka_faults : ::testing::Test {
  std::unique_ptr<infra::dev_kafka> broker;
  std::unique_ptr<infra::kafka_log> log;
  void SetUp() override {
    infra::dev_kafka::options o;
    o.partitions = 2;
    broker = std::move(*infra::dev_kafka::start(o));
    infra::kafka_options ko;
    ko.bootstrap = broker->bootstrap();
    ko.commit_timeout = std::chrono::milliseconds(1000);
    auto l = infra::kafka_log::open(ko);
    ASSERT_TRUE(l) << l.err().detail;
    log = std::move(*l);
    ASSERT_TRUE(log->own(0));
  }
  void TearDown() override {
    log.reset();
    broker.reset();
  }
  // Settles until the log can write again, or gives up after `limit`.
  bool settle_within(std::chrono::seconds limit) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < limit) {
      if (log->settle(0)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
};

TEST_F(kafka_faults, a_commit_that_times_out_is_unknown_then_retried_before_anything_else) {
  ASSERT_TRUE(log->append(0, {make_event("acme", 0)}));
  broker->delay_commit(std::chrono::milliseconds(2500));
  auto r = log->append(0, {make_event("acme", 1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::outcome_unknown) << r.err().detail;
  // Until the commit is confirmed, the writer refuses (503 unavailable).
  auto refused = log->append(0, {make_event("acme", 2)});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.err().code, errc::unavailable) << refused.err().detail;
  ASSERT_TRUE(settle_within(std::chrono::seconds(15)));
  auto after = log->append(0, {make_event("acme", 3)});
  ASSERT_TRUE(after) << after.err().detail;
  // The unknown one did land, once; the refused one never did.
  const auto read = read_all(*log, 0);
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[1].event.stream_version.value, 2);
  EXPECT_EQ(read[2].event.stream_version.value, 4);
}

TEST_F(kafka_faults, a_broker_that_is_down_is_refused_within_five_seconds_and_comes_back) {
  ASSERT_TRUE(log->append(0, {make_event("acme", 0)}));
  broker->down();
  const auto start = std::chrono::steady_clock::now();
  auto r = log->append(0, {make_event("acme", 1)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.err().code == errc::unavailable || r.err().code == errc::outcome_unknown)
      << r.err().detail;
  EXPECT_FALSE(log->writable());
  broker->up();
  ASSERT_TRUE(settle_within(std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // writable() looks once a second
  EXPECT_TRUE(log->writable());
  auto again = log->append(0, {make_event("acme", 2)});
  ASSERT_TRUE(again) << again.err().detail;
}

TEST_F(kafka_faults, a_fenced_writer_is_dropped_at_once_and_taken_back_by_settle) {
  ASSERT_TRUE(log->append(0, {make_event("acme", 0)}));
  broker->fence();
  const auto start = std::chrono::steady_clock::now();
  auto r = log->append(0, {make_event("acme", 1)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(r);
  EXPECT_FALSE(log->owns(0));
  // A gateway leaves the partition to the group; one process takes it back.
  log->set_reacquire(false);
  EXPECT_FALSE(log->settle(0));
  log->set_reacquire(true);
  ASSERT_TRUE(settle_within(std::chrono::seconds(15)));
  EXPECT_TRUE(log->owns(0));
  ASSERT_TRUE(log->append(0, {make_event("acme", 2)}));
}

}  // namespace

namespace {

// What one member of the gateways' group holds.
struct member {
  std::mutex m;
  std::set<std::int32_t> owned;
  infra::kafka_group::handlers handlers() {
    return {[this](std::int32_t p) {
              std::lock_guard lock(m);
              owned.insert(p);
            },
            [this](std::int32_t p) {
              std::lock_guard lock(m);
              owned.erase(p);
            }};
  }
  std::set<std::int32_t> now() {
    std::lock_guard lock(m);
    return owned;
  }
};

bool within(std::chrono::seconds limit, const std::function<bool()>& pred) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

TEST(kafka_group, members_share_the_partitions_and_one_that_leaves_hands_them_over) {
  infra::dev_kafka::options o;
  o.partitions = 4;
  auto broker = std::move(*infra::dev_kafka::start(o));
  infra::kafka_options ko;
  ko.bootstrap = broker->bootstrap();
  member a, b;
  auto ga = infra::kafka_group::join(ko, "gateways", a.handlers());
  ASSERT_TRUE(ga) << ga.err().detail;
  ASSERT_TRUE(within(std::chrono::seconds(30), [&] { return a.now().size() == 4; }));
  auto gb = infra::kafka_group::join(ko, "gateways", b.handlers());
  ASSERT_TRUE(gb) << gb.err().detail;
  // Shared, each partition held by exactly one.
  ASSERT_TRUE(within(std::chrono::seconds(40),
                     [&] {
                       const auto x = a.now(), y = b.now();
                       if (x.empty() || y.empty() || x.size() + y.size() != 4) return false;
                       for (auto p : x)
                         if (y.contains(p)) return false;
                       return true;
                     }))
      << a.now().size() << " + " << b.now().size();
  ga->reset();  // leaves: revokes first
  EXPECT_TRUE(a.now().empty());
  EXPECT_TRUE(within(std::chrono::seconds(40), [&] { return b.now().size() == 4; }));
}

TEST(owners_board, every_reader_sees_the_latest_owner_of_each_partition) {
  infra::dev_kafka::options o;
  o.partitions = 2;
  auto broker = std::move(*infra::dev_kafka::start(o));
  infra::kafka_options ko;
  ko.bootstrap = broker->bootstrap();
  auto one = std::move(*infra::owners_board::open(ko, "tally.owners"));
  auto two = std::move(*infra::owners_board::open(ko, "tally.owners"));
  ASSERT_TRUE(one->publish(0, "http://a:1"));
  EXPECT_FALSE(two->wait_complete(2, std::chrono::milliseconds(500)));
  ASSERT_TRUE(one->publish(1, "http://a:1"));
  ASSERT_TRUE(two->wait_complete(2, std::chrono::seconds(10)));
  ASSERT_TRUE(two->publish(1, "http://b:2"));
  EXPECT_TRUE(within(std::chrono::seconds(10), [&] { return one->owner(1) == "http://b:2"; }));
  EXPECT_EQ(one->owner(0), "http://a:1");
}

}  // namespace

namespace {

TEST(dev_kafka, listen_takes_the_bootstrap_connection_on_the_address_asked_for) {
  infra::dev_kafka::options o;
  o.partitions = 1;
  o.listen = "127.0.0.1:0";
  auto broker = infra::dev_kafka::start(o);
  ASSERT_TRUE(broker) << broker.err().detail;
  const auto bootstrap = (*broker)->bootstrap();
  EXPECT_TRUE(bootstrap.starts_with("127.0.0.1:")) << bootstrap;
  infra::kafka_options ko;
  ko.bootstrap = bootstrap;
  auto log = infra::kafka_log::open(ko);
  ASSERT_TRUE(log) << log.err().detail;
  EXPECT_EQ((*log)->partition_count(), 1);
  ASSERT_TRUE((*log)->own(0));
  ASSERT_TRUE((*log)->append(0, {make_event("acme", 0)}));
  EXPECT_EQ(read_all(**log, 0).size(), 1u);
  EXPECT_EQ((*broker)->command("rtt 5"), "ok");
  EXPECT_NE((*broker)->command("sideways"), "ok");
}

}  // namespace
