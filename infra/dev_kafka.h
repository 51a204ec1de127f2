#pragma once

// `tally dev-kafka`: librdkafka's mock cluster — one broker in this process,
// speaking the Kafka protocol on localhost, keeping nothing on disk — with
// Tally's topics created at start (the mock does not serve CreateTopics) and
// faults to inject. It is not a real cluster: read_committed isolates
// nothing, a second InitProducerId does not fence the first, offsets have
// no transaction markers, it keeps at most 5 MiB or 100 k records per
// partition, and rebalances take seconds. Tally relies on none of it
// (docs/operations.md, "Kafka").

#include "domain/error.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace tally::infra {

class dev_kafka {
 public:
  struct options {
    std::int32_t partitions = 4;
    // HOST:PORT to take connections on, passed on to the broker (the mock
    // cluster picks its own port, and its metadata names that one: clients
    // on this machine bootstrap here and then talk to it directly). "": none.
    std::string listen;
    std::string topic = "tally.events";
    std::string owners_topic = "tally.owners";
  };
  static result<std::unique_ptr<dev_kafka>> start(const options& o);
  ~dev_kafka();
  dev_kafka(const dev_kafka&) = delete;
  dev_kafka& operator=(const dev_kafka&) = delete;

  // HOST:PORT to bootstrap from: `listen` if given, else the broker's own.
  [[nodiscard]] std::string bootstrap() const;

  // Faults: the broker stops or starts answering; every answer is delayed;
  // the next EndTxn (commit or abort) is delayed; the next EndTxn answers
  // PRODUCER_FENCED.
  void down();
  void up();
  void rtt(std::chrono::milliseconds delay);
  void delay_commit(std::chrono::milliseconds delay);
  void fence();

  // One fault command as `tally dev-kafka` reads them on stdin ("down",
  // "up", "rtt MS", "delay-commit MS", "fence"); "ok" or why not.
  std::string command(const std::string& line);

 private:
  dev_kafka() = default;
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tally::infra
