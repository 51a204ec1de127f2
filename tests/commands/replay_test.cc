// Everything the deciders keep beside the events is derived from the log:
// a decider whose store is empty or behind replays the log and answers as
// if it had never stopped — idempotent retries included, byte for byte —
// also on a log whose offsets are not consecutive.

#include "commands/command_bus.h"
#include "infra/embedded_log.h"
#include "support/memory_kv.h"
#include "support/sparse_log.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <future>
#include <random>

using namespace tally;
namespace fs = std::filesystem;

namespace {

struct temp_path {
  fs::path path =
      fs::temp_directory_path() / ("tally-replay-" + std::to_string(std::random_device{}()));
  ~temp_path() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct sent {
  command cmd;
  std::string key;
  commands::command_reply reply;
};

class history {
 public:
  explicit history(commands::command_bus& bus) : bus_(bus) {}

  commands::command_reply run(command cmd, std::optional<std::string> key = {},
                              std::string digest = "") {
    commands::command_request r;
    r.tenant = ids::tenant{"acme"};
    r.actor = ids::user{"u1"};
    r.actor_is_admin = true;
    r.cmd = cmd;
    r.idempotency_key = key;
    r.request_digest = digest.empty() ? "digest-of-" + key.value_or("none") : digest;
    r.correlation_id = key.value_or("c");
    std::promise<commands::command_reply> p;
    auto f = p.get_future();
    bus_.submit(std::move(r), [&](commands::command_reply x) { p.set_value(std::move(x)); });
    auto reply = f.get();
    if (key && !reply.failure) sent_.push_back({std::move(cmd), *key, reply});
    return reply;
  }

  std::string id_of(const commands::command_reply& r, const char* field) {
    return std::string(boost::json::parse(r.body).as_object().at(field).as_string());
  }

  const std::vector<sent>& keyed() const { return sent_; }

 private:
  commands::command_bus& bus_;
  std::vector<sent> sent_;
};

// One of every kind of answer: single events, several events per command, a
// booking that registers its customer (first event not the target), an end
// that invoices (last event not the target), a write-down that removes lines
// of other sessions.
void script(history& h, int padding) {
  int n = 0;
  auto key = [&] { return "k" + std::to_string(n++); };
  h.run(put_item{ids::item{"tea"}, "Tea", {}, 250, std::string("A1")}, key());
  for (int i = 0; i < padding; ++i) h.run(receive_stock{ids::item{"tea"}, 1}, key());
  h.run(change_settings{"EUR", {}, {}, {}, {}, {}, 30}, key());
  const auto customer =
      h.id_of(h.run(register_customer{"Ann", "ann@example.com", {}, {}}, key()), "customer_id");
  const auto pc = h.id_of(h.run(register_resource{"PC 1", 600}, key()), "resource_id");
  const auto metered = h.id_of(
      h.run(start_session{session_kind::metered, ids::customer{customer}, ids::resource{pc}, {}},
            key()),
      "session_id");
  h.run(add_item{ids::session{metered}, ids::item{"tea"}, 2, {}}, key());
  h.run(add_note{ids::session{metered}, "window seat", {}}, key());
  h.run(end_session{ids::session{metered}}, key());
  h.run(record_payment{ids::session{metered}, {}, 100, "cash"}, key());
  h.run(refund_payment{ids::session{metered}, 50, "sorry"}, key());
  const auto shop =
      h.id_of(h.run(start_session{session_kind::shopping, ids::customer{customer}, {}, {}}, key()),
              "session_id");
  const auto line =
      h.id_of(h.run(add_item{ids::session{shop}, ids::item{"tea"}, 3, {}}, key()), "line_id");
  h.run(adjust_price{ids::session{shop}, ids::line{line}, 200, std::string("regular")}, key());
  h.run(pick_item{ids::session{shop}, ids::line{line}, 1}, key());
  h.run(adjust_stock{ids::item{"tea"}, -(padding + 100), "flood"}, key());
  h.run(
      request_booking{
          {}, new_customer{"Bo", "bo@example.com", {}}, "Intro", 30, {}, {}, {}, {}, "public"},
      key());
  h.run(issue_invoice{ids::customer{customer}, {{"Consulting", 2, 5000}}}, key());
}

void expect_replayed(history& live, history& again) {
  ASSERT_FALSE(live.keyed().empty());
  for (const auto& s : live.keyed()) {
    auto r = again.run(s.cmd, s.key);
    ASSERT_FALSE(r.failure) << s.key << ": " << r.failure->detail;
    EXPECT_TRUE(r.replayed) << s.key;
    EXPECT_EQ(r.body, s.reply.body) << s.key;
    EXPECT_EQ(r.position, s.reply.position) << s.key;
    EXPECT_EQ(r.version.value, s.reply.version.value) << s.key;
  }
  // The digest is kept too: the same key for another request is refused.
  auto other = again.run(live.keyed().front().cmd, live.keyed().front().key, "another request");
  ASSERT_TRUE(other.failure);
  EXPECT_EQ(other.failure->code, errc::idempotency_key_reused);
}

struct replay : ::testing::Test {
  temp_path dir;
  std::unique_ptr<infra::embedded_log> log =
      std::move(*infra::embedded_log::open(dir.path.string()));
  fixed_clock clock{*parse_rfc3339("2026-11-22T10:00:00Z")};
};

TEST_F(replay, answers_rebuilt_from_the_log_equal_the_live_ones_byte_for_byte) {
  tally::testing::memory_kv live_store;
  commands::command_bus live_bus(*log, live_store, clock, {});
  ASSERT_TRUE(live_bus.start());
  history live(live_bus);
  script(live, 5);
  live_bus.stop();

  // A decider that starts with an empty store (a Kafka-mode gateway taking
  // a partition over) rebuilds every record from the events.
  tally::testing::memory_kv empty;
  commands::command_bus bus(*log, empty, clock, {});
  ASSERT_TRUE(bus.start());
  history again(bus);
  expect_replayed(live, again);
}

TEST_F(replay, a_command_cut_by_the_reader_is_replayed_whole) {
  // Recovery reads 1 000 events at a time: padding puts a booking's two
  // events (a new customer, then the session) across that boundary.
  tally::testing::memory_kv live_store;
  commands::command_bus live_bus(*log, live_store, clock, {});
  ASSERT_TRUE(live_bus.start());
  history live(live_bus);
  script(live, 985);
  live_bus.stop();
  ASSERT_GT(log->end(), 1000);

  tally::testing::memory_kv empty;
  commands::command_bus bus(*log, empty, clock, {});
  ASSERT_TRUE(bus.start());
  history again(bus);
  expect_replayed(live, again);
  // The store's checkpoint never falls inside a command.
  auto checkpoint = empty.get(commands::write_model::checkpoint_key(0));
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(std::stoll(*checkpoint), log->end() - 1);
}

TEST_F(replay, a_store_rebuilt_from_the_log_equals_the_live_one) {
  tally::testing::memory_kv store;
  {
    commands::command_bus bus(*log, store, clock, {});
    ASSERT_TRUE(bus.start());
    history h(bus);
    script(h, 10);
  }
  // A store rebuilt from the log alone.
  tally::testing::memory_kv partial;
  {
    commands::command_bus bus(*log, partial, clock, {});
    ASSERT_TRUE(bus.start());
  }
  std::vector<std::string> keys_full, keys_partial;
  std::vector<std::string> values_full, values_partial;
  store.scan("", "", [&](std::string_view k, std::string_view v) {
    keys_full.emplace_back(k);
    values_full.emplace_back(v);
    return true;
  });
  partial.scan("", "", [&](std::string_view k, std::string_view v) {
    keys_partial.emplace_back(k);
    values_partial.emplace_back(v);
    return true;
  });
  // Aggregates, idempotency records, the scheduler's index and the
  // checkpoint: the rebuilt store holds what the live one holds.
  EXPECT_EQ(keys_partial, keys_full);
  EXPECT_EQ(values_partial, values_full);
}

TEST_F(replay, deciders_never_assume_consecutive_offsets) {
  tally::testing::sparse_log sparse(*log);
  tally::testing::memory_kv store;
  commands::command_bus bus(sparse, store, clock, {});
  ASSERT_TRUE(bus.start());
  history h(bus);
  auto first = h.run(put_item{ids::item{"tea"}, "Tea", {}, 250, {}}, "a");
  ASSERT_FALSE(first.failure);
  ASSERT_TRUE(first.position);
  EXPECT_EQ(first.position->offset, 1);
  auto second = h.run(receive_stock{ids::item{"tea"}, 4}, "b");
  EXPECT_EQ(second.position->offset, 4);
  auto settings = h.run(change_settings{"EUR", {}, {}, {}, {}, {}, {}});
  EXPECT_EQ(settings.position->offset, 7);
  EXPECT_EQ(bus.last_offset(0), 7);
  // A command that changes nothing answers with the last event's position,
  // not the end of the log minus one (a marker there).
  auto nothing = h.run(change_settings{"EUR", {}, {}, {}, {}, {}, {}});
  ASSERT_FALSE(nothing.failure) << nothing.failure->detail;
  EXPECT_EQ(nothing.position->offset, 7);
  bus.stop();

  // Recovery over the sparse log from an empty store, then on.
  tally::testing::memory_kv empty;
  commands::command_bus again(sparse, empty, clock, {});
  ASSERT_TRUE(again.start());
  EXPECT_EQ(again.last_offset(0), 7);
  history h2(again);
  EXPECT_TRUE(h2.run(receive_stock{ids::item{"tea"}, 4}, "b").replayed);
  auto third = h2.run(receive_stock{ids::item{"tea"}, 1});
  ASSERT_FALSE(third.failure);
  EXPECT_EQ(third.position->offset, 10);
  EXPECT_EQ(third.version.value, 3);
  EXPECT_EQ(boost::json::parse(third.body).at("on_hand").as_int64(), 5);
  EXPECT_EQ(std::stoll(*empty.get(commands::write_model::checkpoint_key(0))), 10);
}

}  // namespace
