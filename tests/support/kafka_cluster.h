#pragma once

// The Kafka cluster an integration test's servers run on (TALLY_TEST_KAFKA=1,
// ctest's kafka/ tests): by default a dev-kafka of each data directory's own
// (librdkafka's mock cluster, `tally dev-kafka`), or, with
// TALLY_TEST_KAFKA_BROKER, a real Apache Kafka (scripts/kafka.sh) shared by
// every test, where each data directory gets topics of its own.

#include <string>
#include <vector>

namespace tally::testing {

// TALLY_TEST_KAFKA is set (and not 0): every server of a test runs on Kafka.
// Its value 1 means on dev-kafkas; any other names a real cluster, as
// TALLY_TEST_KAFKA_BROKER does.
bool kafka_mode();

// The real cluster: TALLY_TEST_KAFKA_BROKER (or TALLY_TEST_KAFKA when it is
// not 1), HOST:PORT[,…] of a running cluster or the path of a file holding
// it (scripts/kafka.sh start writes DIR/bootstrap); "": none, dev-kafkas.
std::string real_kafka_bootstrap();

// Where a data directory's deployment keeps its log: the bootstrap and the
// topic. On the real cluster the topic (its 4 partitions, replication
// TALLY_TEST_KAFKA_REPLICATION or 1) and its owners topic are created on first
// use and deleted with the temp_dir; on a dev-kafka, tally.events.
struct kafka_target {
  std::string bootstrap;
  std::string topic = "tally.events";
};
// dev: a dev-kafka even with TALLY_TEST_KAFKA_BROKER (to send it faults).
kafka_target kafka_for(const std::string& data_dir, bool dev = false);
// {"--kafka", bootstrap, "--topic", topic} for a `tally` command.
std::vector<std::string> kafka_args(const std::string& data_dir);

// Sends a fault command ("down", "up", "delay-commit 3000", "fence") to the
// data directory's dev-kafka; its answer ("ok"). Only a dev-kafka takes them.
std::string dev_kafka_fault(const std::string& data_dir, const std::string& command);

// Deletes one topic on the real cluster (a test of what a missing topic does).
void delete_kafka_topic(const std::string& bootstrap, const std::string& topic);

// Called by temp_dir's destructor: stops the directory's dev-kafka, or
// deletes its topics on the real cluster.
void release_kafka(const std::string& data_dir);

}  // namespace tally::testing
