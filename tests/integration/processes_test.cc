// Kafka mode's processes: `tally projector`, a read replica over every
// partition, beside a writer; crashes of either.

#include "infra/rocks.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

using namespace tally::testing;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> dump_views(const fs::path& data) {
  std::map<std::string, std::string> out;
  auto db = tally::infra::rocks_db::open((data / "views").string(), {"views"});
  EXPECT_TRUE(db.has_value());
  if (!db) return out;
  tally::infra::rocks_kv kv(**db, "views");
  kv.scan("", "", [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  return out;
}

struct processes : ::testing::Test {
  // One secret for every process of the deployment (and for `tally token`).
  void SetUp() override { ::setenv("TALLY_JWT_SECRET", "processes-test-secret", 1); }
  void TearDown() override { ::unsetenv("TALLY_JWT_SECRET"); }

  temp_dir writer_dir, projector_dir;
  server_options writer() {
    server_options o;
    o.kafka = true;  // the deployment's dev-kafka belongs to writer_dir
    return o;
  }
  server_options projector() {
    server_options o;
    o.subcommand = "projector";
    o.kafka_of = writer_dir.str();
    return o;
  }
};

TEST_F(processes, a_projector_serves_what_the_writer_wrote_and_refuses_commands) {
  tally_server w(writer_dir.str(), true, writer());
  tally_server p(projector_dir.str(), true, projector());
  auto at_writer = w.client("admin", "acme");
  auto at_replica = p.client("admin", "acme");
  auto created = at_writer->post("/v1/customers", R"({"name":"Ann"})");
  ASSERT_EQ(created.status, 201);
  const auto id = str(at(created.json(), {"customer_id"}));
  auto read = at_replica->get("/v1/customers/" + id,
                              {"Tally-Min-Position: " + created.header("tally-position")});
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(str(at(read.json(), {"name"})), "Ann");
  auto events = at_replica->get("/v1/events");
  EXPECT_NE(events.body.find("CustomerRegistered"), std::string::npos);
  auto refused = at_replica->post("/v1/customers", R"({"name":"Bo"})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.code(), "unavailable");
  EXPECT_EQ(at_replica->get("/readyz").status, 200);
}

TEST_F(processes, a_projector_killed_mid_stream_restarts_to_read_models_equal_a_fresh_rebuild) {
  tally_server w(writer_dir.str(), true, writer());
  auto admin = w.client("admin", "acme");
  ASSERT_EQ(admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})").status,
            200);
  auto p = std::make_unique<tally_server>(projector_dir.str(), true, projector());
  std::atomic<bool> done{false};
  std::string last_position;
  std::thread load([&] {
    http_client c(w.base_url());
    c.token = admin->token;
    for (int i = 0; i < 300; ++i) {
      auto r = (i % 2) ? c.post("/v1/inventory/tea/receipts", R"({"quantity":1})")
                       : c.post("/v1/customers", "{\"name\":\"c" + std::to_string(i) + "\"}");
      if (r.status < 300) last_position = r.header("tally-position");
    }
    done = true;
  });
  // Crash the replica while events stream in, then start it again.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  p->kill9();
  p = std::make_unique<tally_server>(projector_dir.str(), true, projector());
  load.join();
  ASSERT_FALSE(last_position.empty());
  auto replica = p->client("admin", "acme");
  auto tea = replica->get("/v1/inventory/tea", {"Tally-Min-Position: " + last_position});
  ASSERT_EQ(tea.status, 200) << tea.body;
  EXPECT_EQ(num(at(tea.json(), {"on_hand"})), 150);
  ASSERT_EQ(p->stop(), 0);
  const auto live = dump_views(projector_dir.path());

  temp_dir fresh;
  auto rebuilt = run_tally({"rebuild", "--data", fresh.str(), "--kafka", w.kafka()});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out;
  const auto from_scratch = dump_views(fresh.path());
  EXPECT_EQ(live.size(), from_scratch.size());
  EXPECT_TRUE(live == from_scratch) << "the replica's read models differ from a fresh rebuild";
}

}  // namespace
