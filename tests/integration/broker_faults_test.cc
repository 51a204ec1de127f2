// Kafka mode on a real three-broker cluster (Apache Kafka, scripts/kafka.sh;
// replication 3, min.insync.replicas 2, acks=all) while brokers die: under
// load through `tally serve --kafka`, the leader of the partitions being
// written is killed with SIGKILL and restarted, then another. Counts, not
// timings, are asserted: every acknowledged command is in the log exactly
// once, no command is decided twice (a client retries with the same
// Idempotency-Key, as API.md tells it to), commands resume after each
// election, and the read models equal a rebuild from the topic. The times
// to resume are printed ("figures:") for benchmarks/results.md.

#include "support/tally_process.h"
#include "support/views_dump.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace tally::testing;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

std::string kafka_script() { return std::string(TALLY_SOURCE_DIR) + "/scripts/kafka.sh"; }

// A three-broker cluster of the test's own, stopped with it.
struct cluster {
  temp_dir dir;
  std::string bootstrap;
  cluster() {
    auto r = run_shell("bash " + kafka_script() + " start " + dir.str() + "/kafka 3");
    const auto at = r.out.find("bootstrap ");
    if (r.exit_code != 0 || at == std::string::npos)
      throw std::runtime_error("the cluster did not start: " + r.out + r.err);
    bootstrap = r.out.substr(at + 10);
    while (!bootstrap.empty() && (bootstrap.back() == '\n' || bootstrap.back() == '\r'))
      bootstrap.pop_back();
  }
  ~cluster() { run_shell("bash " + kafka_script() + " stop " + dir.str() + "/kafka"); }
  // The node that leads the partition now (0: none known).
  int leader(const std::string& topic, int partition) {
    auto r = run_shell("bash " + kafka_script() + " leader " + dir.str() + "/kafka " + topic + " " +
                       std::to_string(partition));
    return std::atoi(r.out.c_str());
  }
  bool kill(int node) {
    return run_shell("bash " + kafka_script() + " kill " + dir.str() + "/kafka " +
                     std::to_string(node))
               .exit_code == 0;
  }
  bool restart(int node) {
    return run_shell("bash " + kafka_script() + " restart " + dir.str() + "/kafka " +
                     std::to_string(node))
               .exit_code == 0;
  }
};

struct attempt_log {
  std::mutex m;
  std::map<std::string, std::string> acknowledged;  // key -> customer id
  std::set<std::string> tried;                      // every key sent
  std::atomic<int> refused{0};                      // answers other than 201 (then retried)
  std::atomic<steady::rep> last_ok{0};              // of any tenant
  std::atomic<steady::rep> last_acme_ok{0};         // of the tenant on the partition killed
};

}  // namespace

TEST(broker_faults, brokers_killed_under_load_lose_and_duplicate_no_acknowledged_command) {
  cluster kafka;
  ::setenv("TALLY_TEST_KAFKA_BROKER", kafka.bootstrap.c_str(), 1);
  ::setenv("TALLY_TEST_KAFKA_REPLICATION", "3", 1);
  temp_dir data;
  server_options o;
  o.kafka = true;
  auto server = std::make_unique<tally_server>(data.str(), true, o);
  const std::string topic = server->topic();
  // Tenants on every partition (murmur2 spreads these four over the four).
  const std::vector<std::string> tenants{"acme", "globex", "initech", "umbrella", "hooli", "stark"};

  attempt_log log;
  std::atomic<bool> stop{false};
  auto writer = [&](int w) {
    http_client c(server->base_url());
    for (int i = 0; !stop; ++i) {
      const auto& t = tenants[static_cast<std::size_t>(i + w) % tenants.size()];
      c.token = server->token("admin", t);
      const std::string key = t + "-" + std::to_string(w) + "-" + std::to_string(i);
      {
        std::lock_guard lock(log.m);
        log.tried.insert(key);
      }
      // Retried with the same key until acknowledged: one effect at most.
      for (int tries = 0; tries < 200 && !stop; ++tries) {
        auto r =
            c.post("/v1/customers", R"({"name":")" + key + R"("})", {"Idempotency-Key: " + key});
        if (r.status == 201) {
          std::lock_guard lock(log.m);
          log.acknowledged[key] = str(at(r.json(), {"customer_id"}));
          log.last_ok = steady::now().time_since_epoch().count();
          if (t == "acme") log.last_acme_ok = steady::now().time_since_epoch().count();
          break;
        }
        ++log.refused;
        std::this_thread::sleep_for(100ms);
      }
    }
  };
  // Joined however the test ends.
  struct joined_threads {
    std::atomic<bool>& stop;
    std::vector<std::thread> threads;
    ~joined_threads() { join(); }
    void join() {
      stop = true;
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } writers{stop, {}};
  for (int w = 0; w < 4; ++w) writers.threads.emplace_back(writer, w);

  auto acknowledged_count = [&] {
    std::lock_guard lock(log.m);
    return log.acknowledged.size();
  };
  // Resumes: a command of the partition whose leader died is acknowledged
  // after `since`.
  auto resumed_after = [&](steady::time_point since) {
    return eventually([&] { return log.last_acme_ok.load() > since.time_since_epoch().count(); },
                      60s);
  };
  ASSERT_TRUE(eventually([&] { return acknowledged_count() >= 50; }, 60s));

  std::vector<double> resume_seconds;
  const auto acme_partition = [&] {
    // The partition acme's events are on: the one its first event went to.
    auto r = server->client("admin", "acme")->get("/v1/events?limit=1");
    const auto line = r.body.substr(0, r.body.find('\n'));
    const auto position = str(at(boost::json::parse(line), {"position"}));
    return std::atoi(position.c_str());  // "<partition>:<offset>"
  }();
  std::set<int> killed;
  for (int round = 0; round < 2; ++round) {
    // The leader of acme's partition; in the second round, another broker
    // than the first one killed if it leads (else the new leader).
    int node = kafka.leader(topic, acme_partition);
    ASSERT_GT(node, 0) << "no leader for partition " << acme_partition;
    if (killed.contains(node)) node = node % 3 + 1;
    const auto before = acknowledged_count();
    const auto at_kill = steady::now();
    ASSERT_TRUE(kafka.kill(node)) << "node " << node;
    killed.insert(node);
    ASSERT_TRUE(resumed_after(at_kill)) << "no command acknowledged after node " << node << " died";
    resume_seconds.push_back(
        std::chrono::duration<double>(
            steady::duration(log.last_acme_ok.load() - at_kill.time_since_epoch().count()))
            .count());
    ASSERT_TRUE(eventually([&] { return acknowledged_count() >= before + 30; }, 60s));
    ASSERT_TRUE(kafka.restart(node)) << "node " << node;
    ASSERT_TRUE(eventually([&] { return acknowledged_count() >= before + 60; }, 60s));
  }
  writers.join();

  // Every event of every tenant, by the key that made it.
  std::map<std::string, int> events_by_key;
  std::map<std::string, std::string> customer_of_key;
  for (const auto& t : tenants) {
    auto admin = server->client("admin", t);
    // After a write of its own, so that the read models hold everything.
    const auto marker = admin->put("/v1/inventory/marker", R"({"name":"m","unit_price_cents":1})");
    ASSERT_LT(marker.status, 300) << marker.body;
    const auto up_to = "Tally-Min-Position: " + marker.header("tally-position");
    std::string after;
    for (std::size_t lines = 5000; lines == 5000;) {
      auto r =
          admin->get("/v1/events?limit=5000" + (after.empty() ? "" : "&after=" + after), {up_to});
      ASSERT_EQ(r.status, 200) << r.body;
      std::istringstream in(r.body);
      lines = 0;
      for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        ++lines;
        const auto ev = boost::json::parse(line);
        after = str(at(ev, {"position"}));
        if (str(at(ev, {"type"})) != "CustomerRegistered") continue;
        const auto key = str(at(ev, {"correlationid"}));
        ++events_by_key[key];
        customer_of_key[key] = str(at(ev, {"data", "customer_id"}));
      }
    }
  }
  std::size_t lost = 0, duplicated = 0, unknown = 0;
  for (const auto& [key, id] : log.acknowledged) {
    const auto n = events_by_key.contains(key) ? events_by_key[key] : 0;
    lost += n == 0;
    duplicated += n > 1;
    EXPECT_EQ(customer_of_key[key], id) << key << " answered one customer, the log holds another";
  }
  for (const auto& [key, n] : events_by_key) {
    unknown += !log.tried.contains(key);
    duplicated += n > 1 && !log.acknowledged.contains(key);
  }
  std::printf(
      "figures: acknowledged %zu, refused then retried %d, lost %zu, duplicated %zu, "
      "the partition whose leader died resumed after %.2f s and %.2f s\n",
      log.acknowledged.size(), log.refused.load(), lost, duplicated,
      resume_seconds.size() > 0 ? resume_seconds[0] : -1.0,
      resume_seconds.size() > 1 ? resume_seconds[1] : -1.0);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_EQ(unknown, 0u);

  // The read models equal a rebuild from the topic.
  ASSERT_EQ(server->stop(), 0);
  server.reset();
  const auto live = dump_views(data.path());
  temp_dir fresh;
  auto rebuilt =
      run_tally({"rebuild", "--data", fresh.str(), "--kafka", kafka.bootstrap, "--topic", topic});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out;
  const auto from_topic = dump_views(fresh.path());
  EXPECT_EQ(live.size(), from_topic.size());
  EXPECT_TRUE(live == from_topic) << "the read models differ from a rebuild from the topic";
}
