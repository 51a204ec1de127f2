#pragma once

#include "infra/ports/event_log.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct rd_kafka_s;  // librdkafka's handle, kept out of this header

namespace tally::infra {

// The names a deployment's topic gives the rest of it (docs/operations.md,
// "Kafka"), so that deployments on one cluster never meet: "tally.events"
// gives the owners topic "tally.owners" and the gateways' group
// "tally-gateways"; any other topic T gives "T.owners" and "T.gateways".
inline std::string owners_topic_of(const std::string& topic) {
  return topic == "tally.events" ? "tally.owners" : topic + ".owners";
}
inline std::string gateway_group_of(const std::string& topic) {
  return topic == "tally.events" ? "tally-gateways" : topic + ".gateways";
}

struct kafka_options {
  std::string bootstrap;  // HOST:PORT[,HOST:PORT...]
  // transactional.id of the writer of partition p is "<topic>.<p>", the
  // same in every process of the deployment, so that a new writer fences the
  // old one, and another on another topic of the cluster never does.
  std::string topic = "tally.events";
  // A commit that takes longer is answered outcome_unknown (and retried);
  // below the 5 s in which commands must be answered.
  std::chrono::milliseconds commit_timeout{3500};
  // group.id of this process's readers: they `assign` and never commit,
  // so it names them for the cluster's tools only.
  std::string reader_group = "tally-reader";
  // How long opening waits for the cluster to answer.
  std::chrono::milliseconds connect_timeout{10'000};
};

// The event log on Kafka (librdkafka's C API): topic `tally.events`, key =
// tenant, partition = murmur2 of the key as the Java client computes it,
// CloudEvents in structured mode with `content-type:
// application/cloudevents+json; charset=UTF-8`.
//
// Writing: one idempotent transactional producer per owned partition
// (`transactional.id` bound to the partition, acks=all); one transaction per
// append, so a batch of commands is one commit. Outcomes of an append:
// committed → positions; commit timed out → outcome_unknown, and the
// partition retries that commit before anything else (settle); abortable →
// aborted, outcome_unknown if a record may have landed; fatal or fenced →
// the writer is dropped (unavailable) and made anew, fencing whoever took
// it, on a later settle if `reacquire` says so.
//
// Reading: a consumer per cursor, `assign`ed (no group), read_committed,
// auto.offset.reset=error, no commits: positions live in the reader's own
// store.
//
// Thread-safety: append and settle per partition from one thread; open and
// writable from any.
class kafka_log final : public ports::event_log {
 public:
  static result<std::unique_ptr<kafka_log>> open(const kafka_options& options);
  ~kafka_log() override;
  kafka_log(const kafka_log&) = delete;
  kafka_log& operator=(const kafka_log&) = delete;

  [[nodiscard]] std::int32_t partition_count() const override { return partitions_; }
  [[nodiscard]] std::int32_t partition_of(const ids::tenant& tenant) const override;
  [[nodiscard]] result<std::vector<ports::position>> append(
      std::int32_t partition, const std::vector<event>& events) override;
  [[nodiscard]] result<std::unique_ptr<ports::log_cursor>> open(std::int32_t partition,
                                                                std::int64_t from) const override;
  [[nodiscard]] status writable() const override;
  [[nodiscard]] status settle(std::int32_t partition) override;

  // Becomes the writer of `partition`: a producer with its transactional.id
  // and init_transactions, which on a real cluster fences an older writer
  // and finishes its open transaction. Blocks up to the connect timeout.
  [[nodiscard]] status own(std::int32_t partition);
  // Stops writing `partition` (a revoked partition).
  void release(std::int32_t partition);
  [[nodiscard]] bool owns(std::int32_t partition) const;

  // Whether a dropped (fenced) writer is made anew by settle (one process
  // owning every partition) or left dropped (a gateway: the group decides).
  void set_reacquire(bool on) { reacquire_ = on; }

  // The murmur2 partition of a key, as the Java client computes it.
  static std::int32_t partition_for(std::string_view key, std::int32_t partitions);

 private:
  explicit kafka_log(kafka_options options);
  class writer;
  class cursor;

  kafka_options options_;
  std::int32_t partitions_ = 0;
  std::vector<std::unique_ptr<writer>> writers_;  // per partition; null: not owned
  mutable std::mutex writers_mutex_;
  std::atomic<bool> reacquire_{true};
  // writable(): the last look at the cluster, kept for a second.
  mutable std::mutex health_mutex_;
  mutable std::chrono::steady_clock::time_point health_at_{};
  mutable status health_ = ok();
  ::rd_kafka_s* admin_ = nullptr;  // metadata only
};

}  // namespace tally::infra
