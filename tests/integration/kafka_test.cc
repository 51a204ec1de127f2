// `tally serve --kafka` on a dev-kafka when the cluster misbehaves, and the
// topic as an independent Kafka client sees it. (Every other integration
// test also runs on Kafka: ctest's kafka/ tests.)

#include "infra/dev_kafka.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sstream>

using namespace tally::testing;

namespace {

using clock_type = std::chrono::steady_clock;

server_options on_kafka() {
  server_options o;
  o.kafka = true;
  return o;
}

// A dev-kafka of its own, whatever cluster the other tests use: it takes the
// fault commands (down, up, delay-commit, fence).
server_options on_dev_kafka() {
  server_options o;
  o.dev_kafka = true;
  return o;
}

long elapsed_ms(clock_type::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - since).count());
}

// Lines of `cmd`'s standard output.
std::vector<std::string> lines_of(const std::string& cmd) {
  std::vector<std::string> out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 65536> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) {
    std::string line(buf.data());
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  ::pclose(p);
  return out;
}

TEST(kafka, a_broker_that_is_down_gets_503_within_5_s_and_service_resumes_by_itself) {
  temp_dir dir;
  tally_server server(dir.str(), true, on_dev_kafka());
  auto admin = server.client("admin");
  ASSERT_EQ(admin->post("/v1/customers", R"({"name":"before"})").status, 201);
  ASSERT_EQ(dev_kafka_fault(dir.str(), "down"), "ok");
  for (int i = 0; i < 3; ++i) {
    const auto start = clock_type::now();
    auto r = admin->post("/v1/customers", R"({"name":"while down"})");
    EXPECT_LT(elapsed_ms(start), 5000) << "attempt " << i;
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_TRUE(r.code() == "unavailable" || r.code() == "outcome_unknown") << r.body;
  }
  EXPECT_TRUE(eventually([&] { return admin->get("/readyz").status == 503; }));
  ASSERT_EQ(dev_kafka_fault(dir.str(), "up"), "ok");
  EXPECT_TRUE(
      eventually([&] { return admin->post("/v1/customers", R"({"name":"after"})").status == 201; },
                 std::chrono::seconds(30)));
  EXPECT_TRUE(eventually([&] { return admin->get("/readyz").status == 200; }));
}

TEST(kafka, an_unconfirmed_commit_is_outcome_unknown_and_a_retry_with_its_key_has_one_effect) {
  temp_dir dir;
  tally_server server(dir.str(), true, on_dev_kafka());
  auto admin = server.client("admin");
  ASSERT_EQ(admin->post("/v1/customers", R"({"name":"first"})").status, 201);
  // The commit answers after 6 s: longer than the server waits for it.
  ASSERT_EQ(dev_kafka_fault(dir.str(), "delay-commit 6000"), "ok");
  const std::string key = "Idempotency-Key: once-only";
  const auto start = clock_type::now();
  auto r = admin->post("/v1/customers", R"({"name":"Unknown Outcome"})", {key});
  EXPECT_LT(elapsed_ms(start), 5000);
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.code(), "outcome_unknown") << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  // The client retries with the same key until it gets an answer.
  response retried;
  ASSERT_TRUE(eventually(
      [&] {
        retried = admin->post("/v1/customers", R"({"name":"Unknown Outcome"})", {key});
        return retried.status == 201;
      },
      std::chrono::seconds(30)));
  const std::string wait = "Tally-Min-Position: " + retried.header("tally-position");
  auto events = admin->get("/v1/events", {wait});
  ASSERT_EQ(events.status, 200);
  std::istringstream in(events.body);
  int registered = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("\"Unknown Outcome\"") != std::string::npos) ++registered;
  EXPECT_EQ(registered, 1) << events.body;
}

TEST(kafka, a_fenced_partition_is_dropped_and_nothing_hangs) {
  temp_dir dir;
  tally_server server(dir.str(), true, on_dev_kafka());
  auto admin = server.client("admin");
  ASSERT_EQ(admin->post("/v1/customers", R"({"name":"first"})").status, 201);
  ASSERT_EQ(dev_kafka_fault(dir.str(), "fence"), "ok");
  for (int i = 0; i < 5; ++i) {
    const auto start = clock_type::now();
    auto r = admin->post("/v1/customers", R"({"name":"n)" + std::to_string(i) + "\"}");
    EXPECT_LT(elapsed_ms(start), 5000) << "attempt " << i;
    EXPECT_TRUE(r.status == 201 || r.status == 503) << r.status << " " << r.body;
  }
  // One process takes its partition back: service resumes.
  EXPECT_TRUE(
      eventually([&] { return admin->post("/v1/customers", R"({"name":"last"})").status == 201; },
                 std::chrono::seconds(20)));
}

TEST(kafka, an_independent_kafka_client_reads_cloudevents_keyed_by_tenant) {
  if (lines_of("command -v kcat").empty()) GTEST_SKIP() << "kcat is not installed";
  temp_dir dir;
  tally_server server(dir.str(), true, on_kafka());
  auto acme = server.client("admin", "acme");
  auto globex = server.client("admin", "globex");
  ASSERT_EQ(acme->post("/v1/customers", R"({"name":"Ann"})").status, 201);
  ASSERT_EQ(globex->post("/v1/customers", R"({"name":"Bo"})").status, 201);
  const auto lines = lines_of("kcat -C -b " + server.kafka() + " -t " + server.topic() +
                              " -e -q -f 'key=%k|partition=%p|headers=%h|%s\\n' 2>/dev/null");
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_NE(l.find("headers=content-type=application/cloudevents+json; charset=UTF-8"),
              std::string::npos)
        << l;
    EXPECT_NE(l.find("\"specversion\":\"1.0\""), std::string::npos) << l;
    const auto key = l.substr(4, l.find('|') - 4);
    EXPECT_TRUE(key == "acme" || key == "globex") << l;
    EXPECT_NE(l.find("\"tenant\":\"" + key + "\""), std::string::npos) << l;
  }
}

}  // namespace

namespace {

TEST(kafka, migrate_copies_an_embedded_log_into_an_empty_topic_keeping_order_and_ids) {
  temp_dir before, after;
  std::string events_before, customer, invoice_number;
  {
    server_options embedded;
    embedded.embedded = true;
    tally_server server(before.str(), true, embedded);
    auto acme = server.client("admin", "acme");
    auto globex = server.client("admin", "globex");
    customer = str(at(acme->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
    acme->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})");
    acme->post("/v1/inventory/tea/receipts", R"({"quantity":7})");
    globex->post("/v1/customers", R"({"name":"Bo"})");
    auto inv =
        acme->post("/v1/invoices",
                   R"({"customer_id":")" + customer +
                       R"(","lines":[{"description":"x","quantity":1,"unit_price_cents":5}]})");
    invoice_number = str(at(inv.json(), {"number"}));
    events_before =
        acme->get("/v1/events", {"Tally-Min-Position: " + inv.header("tally-position")}).body;
    ASSERT_EQ(server.stop(), 0);
  }
  std::vector<std::string> migrate{"migrate", "--data", before.str()};
  for (auto& a : kafka_args(after.str())) migrate.push_back(a);
  auto run = run_tally(migrate);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("migrated 5 events of 2 tenants"), std::string::npos) << run.out;
  // A second run refuses: the topic holds events.
  EXPECT_EQ(run_tally(migrate).exit_code, 1);

  server_options kafka;
  kafka.kafka = true;
  tally_server server(after.str(), true, kafka);
  auto acme = server.client("admin", "acme");
  // The read models are rebuilt from the topic (the last of acme's events:
  // the invoice).
  ASSERT_TRUE(eventually(
      [&] { return acme->get("/v1/invoices").body.find(invoice_number) != std::string::npos; }));
  auto tea = acme->get("/v1/inventory/tea");
  EXPECT_EQ(num(at(tea.json(), {"on_hand"})), 7);
  // Same events, same ids, same order; positions are the topic's.
  auto strip_positions = [](const std::string& ndjson) {
    std::string out;
    std::istringstream in(ndjson);
    for (std::string line; std::getline(in, line);)
      out += line.substr(line.find(",\"specversion\"")) + "\n";
    return out;
  };
  const auto events_after = acme->get("/v1/events").body;
  EXPECT_EQ(strip_positions(events_after), strip_positions(events_before));
  // The deciders rebuilt their state from the topic: numbering goes on.
  auto next = acme->post(
      "/v1/invoices", R"({"customer_id":")" + customer +
                          R"(","lines":[{"description":"y","quantity":1,"unit_price_cents":5}]})");
  ASSERT_EQ(next.status, 201) << next.body;
  EXPECT_EQ(invoice_number, "INV-000001");
  EXPECT_EQ(str(at(next.json(), {"number"})), "INV-000002");
}

}  // namespace

namespace {

TEST(kafka, a_topic_whose_partition_count_changed_is_refused_at_start) {
  temp_dir dir;
  {
    tally_server server(dir.str(), true, on_dev_kafka());  // 4 partitions
    ASSERT_EQ(server.client("admin")->post("/v1/customers", R"({"name":"Ann"})").status, 201);
    ASSERT_EQ(server.stop(), 0);
  }
  tally::infra::dev_kafka::options two;
  two.partitions = 2;
  auto other = tally::infra::dev_kafka::start(two);
  ASSERT_TRUE(other);
  auto run = run_tally(
      {"serve", "--data", dir.str(), "--listen", "127.0.0.1:0", "--kafka", (*other)->bootstrap()});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_EQ(run.out.find("listening"), std::string::npos) << run.out;
}

}  // namespace

namespace {

// Two deployments on one cluster, each on its own topic, never fence each
// other's writers: a writer's transactional.id is "<topic>.<partition>"
// (before, "tally.events.<partition>" whatever the topic, so the second to
// start took every partition from the first). Only a real cluster fences.
TEST(kafka, deployments_on_other_topics_of_one_cluster_never_fence_each_other) {
  if (real_kafka_bootstrap().empty()) GTEST_SKIP() << "the mock cluster fences no one";
  temp_dir a_dir, b_dir;
  tally_server a(a_dir.str(), true, on_kafka());
  auto at_a = a.client("admin", "acme");
  ASSERT_EQ(at_a->post("/v1/customers", R"({"name":"A0"})").status, 201);
  tally_server b(b_dir.str(), true, on_kafka());  // starts its writers: fences none of a's
  ASSERT_NE(a.topic(), b.topic());
  auto at_b = b.client("admin", "acme");
  for (int i = 1; i <= 10; ++i) {
    auto one = at_a->post("/v1/customers", "{\"name\":\"A" + std::to_string(i) + "\"}");
    EXPECT_EQ(one.status, 201) << one.body;
    auto two = at_b->post("/v1/customers", "{\"name\":\"B" + std::to_string(i) + "\"}");
    EXPECT_EQ(two.status, 201) << two.body;
  }
}

}  // namespace

namespace {

// Apache Kafka creates no topic by itself: a gateway whose owners topic is
// missing exits at once, naming it, rather than waiting for ever for a
// record the cluster will never take (the mock made every topic asked for).
TEST(kafka, a_gateway_without_its_owners_topic_exits_naming_it) {
  const auto bootstrap = real_kafka_bootstrap();
  if (bootstrap.empty()) GTEST_SKIP() << "the mock cluster makes any topic asked for";
  temp_dir dir;
  const auto where = kafka_for(dir.str());
  delete_kafka_topic(bootstrap, where.topic + ".owners");
  const auto started = std::chrono::steady_clock::now();
  auto run = run_tally({"gateway", "--data", dir.str(), "--listen", "127.0.0.1:0", "--kafka",
                        bootstrap, "--topic", where.topic, "--projector", "http://127.0.0.1:9"},
                       {"TALLY_JWT_SECRET=kafka-test-secret"});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_NE((run.out + run.err).find("the owners topic " + where.topic + ".owners is not there"),
            std::string::npos)
      << run.out << run.err;
  EXPECT_EQ(run.out.find("listening"), std::string::npos) << run.out;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

}  // namespace
