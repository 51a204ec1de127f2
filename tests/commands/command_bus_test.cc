// The deciders over the real embedded log: group commit under concurrency,
// a failed append leaves nothing behind, idempotency, recovery from a
// checkpoint.

#include "commands/command_bus.h"
#include "domain/chain.h"
#include "infra/embedded_log.h"
#include "support/memory_kv.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

using namespace tally;
namespace fs = std::filesystem;

namespace {

struct temp_path {
  fs::path path =
      fs::temp_directory_path() / ("tally-bus-" + std::to_string(std::random_device{}()));
  ~temp_path() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

commands::command_request request(command cmd, std::optional<std::string> key = {}) {
  commands::command_request r;
  r.tenant = ids::tenant{"acme"};
  r.actor = ids::user{"u1"};
  r.actor_is_admin = true;
  r.cmd = std::move(cmd);
  r.idempotency_key = std::move(key);
  r.request_digest = "test";
  r.correlation_id = "c";
  return r;
}

commands::command_reply run(commands::command_bus& bus, command cmd,
                            std::optional<std::string> key = {}) {
  std::promise<commands::command_reply> p;
  auto f = p.get_future();
  bus.submit(request(std::move(cmd), std::move(key)),
             [&](commands::command_reply r) { p.set_value(std::move(r)); });
  return f.get();
}

std::int64_t on_hand(const commands::command_reply& r) {
  return boost::json::parse(r.body).as_object().at("on_hand").as_int64();
}

struct bus_test : ::testing::Test {
  temp_path dir;
  std::unique_ptr<infra::embedded_log> log =
      std::move(*infra::embedded_log::open(dir.path.string()));
  fixed_clock clock{*parse_rfc3339("2026-11-22T10:00:00Z")};
};

TEST_F(bus_test, concurrent_commands_are_all_appended_in_order_and_share_syncs) {
  commands::command_bus bus(*log, log->state_store(), clock, {});
  ASSERT_TRUE(bus.start());
  ASSERT_FALSE(run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}}).failure);
  constexpr int threads = 8, each = 50;
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < each; ++i)
        if (!run(bus, receive_stock{ids::item{"tea"}, 1}).failure) ++ok;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, threads * each);
  EXPECT_EQ(log->end(), 1 + threads * each);
  auto last = run(bus, receive_stock{ids::item{"tea"}, 1});
  EXPECT_EQ(on_hand(last), threads * each + 1);
  EXPECT_EQ(last.version.value, threads * each + 2);
}

TEST_F(bus_test, a_failed_append_fails_the_command_and_leaves_no_trace) {
  commands::command_bus bus(*log, log->state_store(), clock, {});
  ASSERT_TRUE(bus.start());
  ASSERT_FALSE(run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}}).failure);
  log->fail_appends(true);
  auto failed = run(bus, receive_stock{ids::item{"tea"}, 5}, "k1");
  ASSERT_TRUE(failed.failure);
  EXPECT_EQ(failed.failure->code, errc::unavailable);
  log->fail_appends(false);
  // Neither the stock nor the idempotency key was kept.
  auto next = run(bus, receive_stock{ids::item{"tea"}, 1}, "k1");
  ASSERT_FALSE(next.failure);
  EXPECT_EQ(on_hand(next), 1);
  EXPECT_EQ(log->end(), 2);
}

TEST_F(bus_test, an_idempotent_retry_is_answered_from_its_record) {
  commands::command_bus bus(*log, log->state_store(), clock, {});
  ASSERT_TRUE(bus.start());
  run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}});
  auto first = run(bus, receive_stock{ids::item{"tea"}, 5}, "once");
  auto again = run(bus, receive_stock{ids::item{"tea"}, 5}, "once");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.position, first.position);
  EXPECT_EQ(log->end(), 2);
  auto other = request(receive_stock{ids::item{"tea"}, 6}, "once");
  other.request_digest = "different";
  std::promise<commands::command_reply> p;
  bus.submit(other, [&](commands::command_reply r) { p.set_value(std::move(r)); });
  auto reused = p.get_future().get();
  ASSERT_TRUE(reused.failure);
  EXPECT_EQ(reused.failure->code, errc::idempotency_key_reused);
}

TEST_F(bus_test, if_match_guards_the_version) {
  commands::command_bus bus(*log, log->state_store(), clock, {});
  ASSERT_TRUE(bus.start());
  run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}});
  auto r = request(receive_stock{ids::item{"tea"}, 5});
  r.if_match = 3;
  std::promise<commands::command_reply> p;
  bus.submit(r, [&](commands::command_reply x) { p.set_value(std::move(x)); });
  auto reply = p.get_future().get();
  ASSERT_TRUE(reply.failure);
  EXPECT_EQ(reply.failure->code, errc::version_conflict);
  EXPECT_EQ(log->end(), 1);
}

TEST_F(bus_test, a_write_model_behind_the_log_catches_up_from_its_checkpoint) {
  {
    commands::command_bus bus(*log, log->state_store(), clock, {});
    ASSERT_TRUE(bus.start());
    run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}});
    for (int i = 0; i < 3; ++i) run(bus, receive_stock{ids::item{"tea"}, 2});
  }
  // A store that has seen nothing (as a Kafka-mode decider would start).
  tally::testing::memory_kv empty;
  commands::command_bus bus(*log, empty, clock, {});
  ASSERT_TRUE(bus.start());
  auto r = run(bus, receive_stock{ids::item{"tea"}, 1});
  ASSERT_FALSE(r.failure) << r.failure->detail;
  EXPECT_EQ(on_hand(r), 7);
  EXPECT_EQ(r.version.value, 5);
}

TEST_F(bus_test, aggregates_evicted_from_a_small_cache_come_back_from_the_store) {
  commands::command_bus::options opts;
  opts.cache_capacity = 16;
  commands::command_bus bus(*log, log->state_store(), clock, opts);
  ASSERT_TRUE(bus.start());
  for (int i = 0; i < 100; ++i)
    run(bus, put_item{ids::item{"i" + std::to_string(i)}, "X", {}, 1, {}});
  // Items evicted from the cache come back from the store.
  auto r = run(bus, receive_stock{ids::item{"i0"}, 3});
  ASSERT_FALSE(r.failure);
  EXPECT_EQ(on_hand(r), 3);
}

}  // namespace

namespace {

TEST_F(bus_test, a_gateway_decides_only_the_partitions_it_has_taken) {
  commands::command_bus bus(*log, log->state_store(), clock, {});
  ASSERT_TRUE(bus.start_empty());
  EXPECT_FALSE(bus.owns(0));
  auto refused = run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}});
  ASSERT_TRUE(refused.failure);
  EXPECT_EQ(refused.failure->code, errc::unavailable);
  EXPECT_EQ(log->end(), 0);

  ASSERT_TRUE(bus.take(0));
  EXPECT_TRUE(bus.owns(0));
  ASSERT_FALSE(run(bus, put_item{ids::item{"tea"}, "Tea", {}, 100, {}}).failure);
  ASSERT_FALSE(run(bus, receive_stock{ids::item{"tea"}, 2}).failure);
  bus.drop(0);
  EXPECT_FALSE(bus.owns(0));
  EXPECT_EQ(bus.last_offset(0), -1);
  auto gone = run(bus, receive_stock{ids::item{"tea"}, 1});
  ASSERT_TRUE(gone.failure);
  EXPECT_EQ(gone.failure->code, errc::unavailable);

  // Someone else wrote meanwhile; taking it back reads that first.
  {
    tally::testing::memory_kv other_store;
    commands::command_bus other(*log, other_store, clock, {});
    ASSERT_TRUE(other.start());
    ASSERT_FALSE(run(other, receive_stock{ids::item{"tea"}, 5}).failure);
  }
  ASSERT_TRUE(bus.take(0));
  auto after = run(bus, receive_stock{ids::item{"tea"}, 1});
  ASSERT_FALSE(after.failure) << after.failure->detail;
  EXPECT_EQ(on_hand(after), 8);
  EXPECT_EQ(after.version.value, 4);
}

// Every tenant's events in the log, as served, through a chain_verifier each.
std::map<std::string, chain_verifier> chains(ports::event_log& log) {
  std::map<std::string, chain_verifier> out;
  for (std::int32_t p = 0; p < log.partition_count(); ++p) {
    auto cursor = std::move(*log.open(p, 0));
    for (;;) {
      auto batch = cursor->poll(1000, std::chrono::milliseconds(0));
      if (!batch || batch->events.empty()) break;
      for (const auto& r : batch->events)
        out[r.event.tenant.value].add(R"({"position":")" + r.pos.token() + "\"," +
                                      r.cloud_event.substr(1));
      if (batch->at_end) break;
    }
  }
  return out;
}

TEST_F(bus_test, each_tenant_has_one_hash_chain_that_survives_restarts_and_a_lost_store) {
  auto for_tenant = [](std::string tenant, command cmd) {
    auto r = request(std::move(cmd));
    r.tenant = ids::tenant{std::move(tenant)};
    return r;
  };
  auto submit = [&](commands::command_bus& bus, commands::command_request r) {
    std::promise<commands::command_reply> p;
    auto f = p.get_future();
    bus.submit(std::move(r), [&](commands::command_reply x) { p.set_value(std::move(x)); });
    auto reply = f.get();
    EXPECT_FALSE(reply.failure) << reply.failure->detail;
  };
  {
    commands::command_bus bus(*log, log->state_store(), clock, {});
    ASSERT_TRUE(bus.start());
    submit(bus, for_tenant("acme", put_item{ids::item{"tea"}, "Tea", {}, 100, {}}));
    for (int i = 0; i < 3; ++i) {
      submit(bus, for_tenant("acme", receive_stock{ids::item{"tea"}, 1}));
      submit(bus, for_tenant("globex", register_customer{"Bo " + std::to_string(i), {}, {}, {}}));
    }
  }
  {  // restarted: the head comes from the store
    commands::command_bus bus(*log, log->state_store(), clock, {});
    ASSERT_TRUE(bus.start());
    submit(bus, for_tenant("acme", receive_stock{ids::item{"tea"}, 1}));
  }
  {  // a store that has seen nothing: the head comes from replaying the log
    tally::testing::memory_kv empty;
    commands::command_bus bus(*log, empty, clock, {});
    ASSERT_TRUE(bus.start());
    submit(bus, for_tenant("globex", register_customer{"Cy", {}, {}, {}}));
    submit(bus, for_tenant("acme", receive_stock{ids::item{"tea"}, 1}));
  }
  auto all = chains(*log);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all["acme"].ok()) << all["acme"].failed_position() << ": "
                                << all["acme"].failure().value_or("");
  EXPECT_EQ(all["acme"].events(), 6);
  EXPECT_TRUE(all["globex"].ok()) << all["globex"].failure().value_or("");
  EXPECT_EQ(all["globex"].events(), 4);
  EXPECT_NE(all["acme"].head(), all["globex"].head());
}

}  // namespace
