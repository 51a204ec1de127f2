#pragma once

// Kafka gateways share the partitions of the events topic through a
// consumer group (cooperative-sticky): the member a partition is assigned
// to is its only writer. Who owns what, and where to reach it, is published
// on a small compacted topic (tally.owners) that every gateway reads.

#include "domain/error.h"
#include "infra/kafka_log.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace tally::infra {

class kafka_group {
 public:
  struct handlers {
    // A partition was assigned: become its writer (blocks until ready).
    std::function<void(std::int32_t)> assigned;
    // A partition was revoked: stop writing it at once.
    std::function<void(std::int32_t)> revoked;
  };
  // Joins `group` on the events topic; handlers run on the group's thread.
  static result<std::unique_ptr<kafka_group>> join(const kafka_options& options,
                                                   const std::string& group, handlers h);
  // Leaves the group: every partition is revoked first.
  ~kafka_group();
  kafka_group(const kafka_group&) = delete;
  kafka_group& operator=(const kafka_group&) = delete;

 private:
  kafka_group() = default;
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The owners board: partition → the URL of the gateway that writes it, as
// the gateways published it. Reads the topic from its beginning and then
// follows it. Thread-safe.
class owners_board {
 public:
  static result<std::unique_ptr<owners_board>> open(const kafka_options& options,
                                                    const std::string& topic);
  ~owners_board();
  owners_board(const owners_board&) = delete;
  owners_board& operator=(const owners_board&) = delete;

  // Says that `url` writes `partition` now.
  status publish(std::int32_t partition, const std::string& url);
  [[nodiscard]] std::optional<std::string> owner(std::int32_t partition) const;
  // Waits until every one of `partitions` has an owner, or the timeout.
  bool wait_complete(std::int32_t partitions, std::chrono::milliseconds timeout) const;

  // The deployment's test clock (--test-clock on every process): its
  // offset, and each process ("member", by URL) with the offset it runs on.
  status publish_clock(std::int64_t offset_ms);
  status publish_member(const std::string& url, std::int64_t clock_offset_ms);
  // Called (on the board's thread) with each clock offset read.
  void on_clock(std::function<void(std::int64_t offset_ms)> listener);
  // Waits until every member known runs on `offset_ms` or later.
  bool wait_members_at(std::int64_t offset_ms, std::chrono::milliseconds timeout) const;

 private:
  owners_board() = default;
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tally::infra
