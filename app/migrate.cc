// `tally migrate`: an embedded log into a Kafka topic, when a business
// outgrows one machine.

#include "app/serve.h"
#include "infra/embedded_log.h"
#include "infra/kafka_log.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>

namespace tally::app {

namespace fs = std::filesystem;

int migrate(const serve_options& o) {
  if (o.kafka.empty()) {
    spdlog::error("--kafka HOST:PORT is required");
    return 2;
  }
  if (!fs::exists(fs::path(o.data_dir) / "log")) {
    spdlog::error("no embedded log in {}", o.data_dir);
    return 1;
  }
  auto source = infra::embedded_log::open((fs::path(o.data_dir) / "log").string());
  if (!source) {
    spdlog::error("{}", source.err().detail);
    return 1;
  }
  infra::kafka_options ko;
  ko.bootstrap = o.kafka;
  ko.topic = o.topic;
  auto target = infra::kafka_log::open(ko);
  if (!target) {
    spdlog::error("{}", target.err().detail);
    return 1;
  }
  auto& log = **target;
  // Only into an empty topic: a second run, or a topic in use, would mix
  // two histories.
  for (std::int32_t p = 0; p < log.partition_count(); ++p) {
    auto cursor = log.open(p, 0);
    if (!cursor) {
      spdlog::error("{}", cursor.err().detail);
      return 1;
    }
    for (;;) {
      auto b = (*cursor)->poll(1, std::chrono::milliseconds(500));
      if (!b) {
        spdlog::error("{}", b.err().detail);
        return 1;
      }
      if (!b->empty()) {
        spdlog::error(
            "topic {} already holds events (partition {}): migrate only into an empty "
            "topic",
            o.topic, p);
        return 1;
      }
      if (b->at_end) break;
    }
    if (auto s = log.own(p); !s) {
      spdlog::error("{}", s.err().detail);
      return 1;
    }
  }
  // In log order, one transaction per partition and chunk: each tenant's
  // events keep their order (a tenant is on one partition) and their ids.
  auto cursor = (*source)->open(0, 0);
  if (!cursor) {
    spdlog::error("{}", cursor.err().detail);
    return 1;
  }
  std::int64_t copied = 0;
  std::set<std::string> tenants;
  for (;;) {
    auto b = (*cursor)->poll(1000, std::chrono::milliseconds(0));
    if (!b) {
      spdlog::error("{}", b.err().detail);
      return 1;
    }
    // A log with a record that cannot be read is not moved: the topic would
    // hold a history with a hole, and nothing would say where it was.
    if (!b->unreadable.empty()) {
      const auto& u = b->unreadable.front();
      spdlog::error(
          "the embedded log holds a record that cannot be read at {} (tenant {}): {}; "
          "nothing more is copied (docs/operations.md, \"A tenant's projection is "
          "stopped\")",
          u.pos.token(), u.tenant ? u.tenant->value : "unknown", u.reason);
      return 1;
    }
    std::map<std::int32_t, std::vector<event>> by_partition;
    for (auto& r : b->events) {
      tenants.insert(r.event.tenant.value);
      by_partition[log.partition_of(r.event.tenant)].push_back(std::move(r.event));
    }
    for (auto& [p, events] : by_partition) {
      auto a = log.append(p, events);
      if (!a) {
        spdlog::error("after {} events: {}", copied, a.err().detail);
        return 1;
      }
      copied += static_cast<std::int64_t>(events.size());
    }
    if (b->at_end) break;
  }
  std::cout << "migrated " << copied << " events of " << tenants.size() << " tenants into "
            << o.topic << " (" << log.partition_count() << " partitions)" << std::endl;
  return 0;
}

}  // namespace tally::app
