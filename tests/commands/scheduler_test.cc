// The scheduler's queue: what is due fires, exactly once, however many
// sessions are tracked; nothing else does; timeouts and failures re-queue.

#include "commands/scheduler.h"
#include "support/memory_kv.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace tally;
using namespace std::chrono_literals;

namespace {

// A clock the test moves while the scheduler's thread reads it.
class moving_clock final : public clock_source {
 public:
  explicit moving_clock(timestamp t) : ms_(to_millis(t)) {}
  [[nodiscard]] timestamp now() const override { return from_millis(ms_.load()); }
  void advance(std::chrono::milliseconds d) { ms_ += d.count(); }

 private:
  std::atomic<std::int64_t> ms_;
};

struct fired_log {
  std::mutex mutex;
  std::vector<std::string> sessions;
  std::vector<commands::command_bus::callback> answers;
  std::size_t size() {
    std::lock_guard lock(mutex);
    return sessions.size();
  }
};

struct scheduler_test : ::testing::Test {
  const timestamp t0 = from_millis(1'800'000'000'000);
  moving_clock clock{t0};
  tally::testing::memory_kv store;
  fired_log fired;
  errc answer_with = errc::not_found;  // what the "decider" answers
  std::unique_ptr<commands::scheduler> s;

  void SetUp() override {
    s = std::make_unique<commands::scheduler>(
        [this](commands::command_request r, commands::command_bus::callback done) {
          {
            std::lock_guard lock(fired.mutex);
            fired.sessions.push_back(std::get<expire_session>(r.cmd).session_id.value);
          }
          commands::command_reply reply;
          reply.failure = make_error(answer_with, "answer");
          done(std::move(reply));
        },
        clock, store);
  }
  void TearDown() override { s->stop(); }

  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }
  static commands::scheduler::due_rule inactive_since(timestamp t) {
    return {commands::scheduler::due_rule::kind::after_inactivity, t};
  }
  static commands::scheduler::due_rule at(timestamp t) {
    return {commands::scheduler::due_rule::kind::at, t};
  }
};

TEST_F(scheduler_test, with_100k_tracked_exactly_the_due_ones_fire_once) {
  s->start();
  const ids::tenant acme{"acme"};
  s->set_timeout(acme, 15);
  // Session i was last active at t0 + i seconds; the timeout is 15 min.
  for (int i = 0; i < 100'000; ++i)
    s->track(acme, ids::session{"s" + std::to_string(i)},
             inactive_since(t0 + std::chrono::seconds(i)));
  EXPECT_EQ(s->tracked(), 100'000u);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fired.size(), 0u) << "fired before anything was due";
  // 15 minutes and 999 seconds on: sessions 0..999 are due.
  clock.advance(15min + 999s);
  ASSERT_TRUE(eventually([&] { return fired.size() >= 1000; }));
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(fired.size(), 1000u);
  std::set<std::string> unique(fired.sessions.begin(), fired.sessions.end());
  EXPECT_EQ(unique.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unique.contains("s" + std::to_string(i))) << i;
  // not_found answers: forgotten.
  EXPECT_TRUE(eventually([&] { return s->tracked() == 99'000u; }));
}

TEST_F(scheduler_test, activity_moves_the_due_time_and_an_ended_session_is_forgotten) {
  s->start();
  const ids::tenant acme{"acme"};
  s->set_timeout(acme, 15);
  s->track(acme, ids::session{"a"}, inactive_since(t0));
  s->track(acme, ids::session{"b"}, inactive_since(t0));
  s->track(acme, ids::session{"a"}, inactive_since(t0 + 10min));  // active again
  s->track(acme, ids::session{"b"}, std::nullopt);                // ended
  clock.advance(16min);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fired.size(), 0u);
  clock.advance(10min);
  ASSERT_TRUE(eventually([&] { return fired.size() == 1; }));
  EXPECT_EQ(fired.sessions[0], "a");
}

TEST_F(scheduler_test, a_timeout_change_requeues_the_tenants_sessions) {
  s->start();
  s->track(ids::tenant{"acme"}, ids::session{"a"}, inactive_since(t0));
  s->track(ids::tenant{"other"}, ids::session{"b"}, inactive_since(t0));
  s->set_timeout(ids::tenant{"acme"}, 60);
  clock.advance(31min);  // past the default 30 of "other"
  ASSERT_TRUE(eventually([&] { return fired.size() == 1; }));
  EXPECT_EQ(fired.sessions[0], "b");
  clock.advance(30min);
  ASSERT_TRUE(eventually([&] { return fired.size() == 2; }));
  EXPECT_EQ(fired.sessions[1], "a");
  // A timeout of 0 turns the rule off.
  s->track(ids::tenant{"acme"}, ids::session{"c"}, inactive_since(clock.now()));
  s->set_timeout(ids::tenant{"acme"}, 0);
  clock.advance(24h);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fired.size(), 2u);
}

TEST_F(scheduler_test, a_rule_that_changes_kind_leaves_nothing_behind) {
  s->start();
  const ids::tenant acme{"acme"};
  s->set_timeout(acme, 0);  // inactivity never makes it due: not queued
  s->track(acme, ids::session{"a"}, inactive_since(t0));
  s->track(acme, ids::session{"a"}, at(t0 + 1h));   // now an appointment's end
  s->track(acme, ids::session{"a"}, std::nullopt);  // ended
  s->set_timeout(acme, 15);                         // must not find a stale "a"
  EXPECT_EQ(s->tracked(), 0u);
  EXPECT_EQ(s->queued(), 0u);
  clock.advance(2h);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fired.size(), 0u);
}

TEST_F(scheduler_test, an_appointment_fires_at_its_end) {
  s->start();
  s->track(ids::tenant{"acme"}, ids::session{"appt"}, at(t0 + 2h));
  clock.advance(1h);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fired.size(), 0u);
  clock.advance(1h);
  ASSERT_TRUE(eventually([&] { return fired.size() == 1; }));
}

TEST_F(scheduler_test, a_failed_command_is_retried_later_not_in_a_loop) {
  answer_with = errc::unavailable;
  s->start();
  s->track(ids::tenant{"acme"}, ids::session{"a"}, at(t0));
  ASSERT_TRUE(eventually([&] { return fired.size() == 1; }));
  // The clock stands still: no retry, however long we wait.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(fired.size(), 1u);
  clock.advance(2s);
  ASSERT_TRUE(eventually([&] { return fired.size() == 2; }));
}

TEST_F(scheduler_test, a_restart_rebuilds_the_queue_from_the_index) {
  ports::kv_batch b;
  b.put(commands::scheduler::activity_key(ids::tenant{"acme"}, ids::session{"x"}),
        commands::scheduler::encode(at(t0 - 1h)));
  b.put(commands::scheduler::activity_key(ids::tenant{"acme"}, ids::session{"y"}),
        commands::scheduler::encode(at(t0 + 1h)));
  ASSERT_TRUE(store.write(b));
  s->start();
  ASSERT_TRUE(eventually([&] { return fired.size() == 1; }));
  EXPECT_EQ(fired.sessions[0], "x");
  EXPECT_EQ(s->tracked(), 1u);
}

}  // namespace
