#pragma once

// Delivers the tenant's events to its webhooks (API.md, "Webhooks";
// docs/operations.md, "Webhooks").
//
// A log consumer with a store and a checkpoint of its own (<data>/webhooks,
// which `tally rebuild` leaves alone): it follows WebhookRegistered and
// WebhookRemoved, and queues every later event of the tenant that a webhook
// asks for, atomically with its checkpoint. Senders then POST each webhook's
// queue in log order, one delivery in flight per webhook, retrying with
// exponential backoff for 24 hours: at least once, in order.

#include "base/metrics.h"
#include "base/time.h"
#include "domain/clock.h"
#include "domain/ids.h"
#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"
#include "infra/ports/tenant_stops.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "webhooks/policy.h"

#include <boost/describe.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tally::webhooks {

struct dispatcher_options {
  std::string server_key;  // the secrets are derived from it (signing.h)
  outbound_policy policy;
  std::size_t senders = 4;  // threads; each webhook belongs to one
  std::chrono::milliseconds attempt_timeout{5000};
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
};

// A webhook as the dispatcher keeps it.
struct hook {
  std::string tenant;
  std::string webhook_id;
  std::string url;
  std::vector<std::string> event_types;
  bool active = true;
  std::int64_t next_seq = 0;
};
BOOST_DESCRIBE_STRUCT(hook, (), (tenant, webhook_id, url, event_types, active, next_seq))

// One event for one webhook, and how its delivery went.
struct delivery {
  std::string delivery_id;
  std::string event_id;
  std::string type;
  std::string position;
  std::string status = "pending";  // pending, delivered, failed, cancelled
  std::int64_t attempts = 0;
  std::optional<std::int64_t> last_status;  // the receiver's HTTP status
  std::optional<std::string> last_error;
  std::optional<timestamp> first_attempt_at;
  std::optional<timestamp> next_attempt_at;
  std::optional<timestamp> delivered_at;
  std::optional<timestamp> failed_at;
  std::string body;  // the CloudEvent as POSTed
};
BOOST_DESCRIBE_STRUCT(delivery, (),
                      (delivery_id, event_id, type, position, status, attempts, last_status,
                       last_error, first_attempt_at, next_attempt_at, delivered_at, failed_at,
                       body))

// A delivery as GET /v1/webhooks/{id}/deliveries shows it.
struct delivery_view {
  std::string delivery_id;
  std::string event_id;
  std::string type;
  std::string position;
  std::string status;
  std::int64_t attempts = 0;
  std::optional<std::int64_t> last_status;
  std::optional<std::string> last_error;
  std::optional<timestamp> next_attempt_at;
  std::optional<timestamp> delivered_at;
  std::optional<timestamp> failed_at;
};
BOOST_DESCRIBE_STRUCT(delivery_view, (),
                      (delivery_id, event_id, type, position, status, attempts, last_status,
                       last_error, next_attempt_at, delivered_at, failed_at))

class dispatcher {
 public:
  // With a `source`, the dispatcher reads the log itself only to catch up
  // from its checkpoint, then takes the events the projector applies in the
  // same process (no second reader on the log: on Kafka, no more consumers).
  dispatcher(ports::event_log& log, ports::kv_store& store, const clock_source& clock,
             dispatcher_options options, projections::projector* source = nullptr);
  ~dispatcher();
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  void start();
  void stop();

  // The webhook's deliveries, newest first ({"items", "next_cursor"}).
  [[nodiscard]] result<std::string> deliveries(const ids::tenant& t, const ids::webhook& w,
                                               const projections::page_request& page) const;

  // Attempts by result and deliveries given up, for /metrics.
  void write_metrics(metrics_text& out) const;

 private:
  void consume(std::int32_t partition);
  status apply(std::int32_t partition, const std::vector<ports::recorded_event>& events);
  void send(std::size_t worker);
  // One attempt at the head of a webhook's queue; true if it was due.
  bool attempt(const hook& h);

  ports::event_log& log_;
  ports::kv_store& store_;
  ports::tenant_stops stops_{"m/webhook-stopped/"};
  const clock_source& clock_;
  dispatcher_options options_;
  mutable std::mutex mutex_;  // hooks_
  // Taken to write delivery records: a sender's result never overwrites a
  // cancellation the consumer wrote while the request was on the wire.
  std::mutex records_;
  std::map<std::string, hook> hooks_;  // by store key
  // Events the projector applied, per partition, until the consumer takes them.
  struct feed {
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<ports::recorded_event> events;
    bool overflow = false;  // more than it holds: read the log instead
  };
  struct feeds {
    std::atomic<bool> open{true};
    std::vector<std::unique_ptr<feed>> partitions;
  };
  std::shared_ptr<feeds> feeds_;  // null without a source
  std::condition_variable queued_;
  std::mutex queued_mutex_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> delivered_{0}, failed_attempts_{0}, gave_up_{0};
  std::vector<std::thread> threads_;
};

}  // namespace tally::webhooks
