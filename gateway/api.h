#pragma once

#include "base/ed25519.h"
#include "base/metrics.h"
#include "commands/command_port.h"
#include "domain/clock.h"
#include "gateway/auth.h"
#include "gateway/http_types.h"
#include "infra/ports/event_log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "webhooks/dispatcher.h"
#include "webhooks/policy.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::gateway {

// Kafka gateways (tally gateway): what this process does not serve itself
// goes on. Reads, history, /v1/events and feeds go to a projector; a
// command goes to the gateway that decides its tenant's partition, once.
struct gateway_routes {
  std::string projector_url;                            // "http://host:port"
  std::string self_url;                                 // this gateway, as the others reach it
  std::function<bool(std::int32_t partition)> decides;  // here?
  std::function<std::optional<std::string>(std::int32_t partition)> owner;  // else where
  // Sends a request to another process (http_forwarder::send).
  std::function<void(const std::string& url, http_request, respond_fn)> send;
};

// Which browser origins may call the API (--cors-origins: a comma-separated
// list of origins such as https://app.example.com, or *).
struct cors_policy {
  bool any = false;
  std::vector<std::string> origins;
  static cors_policy from_list(std::string_view list);
  [[nodiscard]] bool allows(std::string_view origin) const;
};

struct api_services {
  commands::command_port& bus;
  // The read models, in process; null in a Kafka gateway, which passes every
  // read on to a projector (gateway_routes).
  projections::projector* projector;
  projections::queries* queries;
  ports::event_log& log;
  const clock_source& clock;
  token_verifier& verifier;
  clock_control* test_clock = nullptr;  // set only with --test-clock
  schedule_fn schedule;
  const transport_metrics* transport = nullptr;  // the HTTP server's counters
  const gateway_routes* routes = nullptr;        // set in a Kafka gateway only
  // Webhooks: the key their secrets derive from, where they may point, and
  // the dispatcher whose deliveries this process shows (null where another
  // process dispatches).
  std::string webhook_key;
  webhooks::outbound_policy webhook_policy;
  const webhooks::dispatcher* webhooks = nullptr;
  cors_policy cors;  // none by default
  // What else this process measures (the scheduler, say), added to /metrics.
  std::function<void(metrics_text&)> more_metrics;
  // The key that signs chain heads (GET /v1/audit/key and /head); none: 503.
  const ed25519_key* audit_key = nullptr;
};

// The HTTP API of API.md, without any network code: routing, auth, reading
// bodies into commands, waiting for read models, and answers. Every request
// ends in exactly one call of `respond`, possibly from another thread.
// Thread-safe.
class api {
 public:
  explicit api(api_services services);
  ~api();
  void handle(http_request request, respond_fn respond);

  // "METHOD /path/{param}" of every route, for the OpenAPI check.
  [[nodiscard]] std::vector<std::string> routes() const;

  // For the WebSocket upgrade of GET /v1/stream: the caller, from the bearer
  // token in the Authorization header or ?access_token=.
  [[nodiscard]] result<principal> authorize_stream(const http_request& request) const;

  // Requests being handled now (for a graceful stop).
  [[nodiscard]] std::int64_t in_flight() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// Headers every response carries (Date is the server's business).
void add_common_headers(http_response& r, const clock_source& clock);

}  // namespace tally::gateway
