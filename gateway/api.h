#pragma once

#include "commands/command_port.h"
#include "domain/clock.h"
#include "gateway/auth.h"
#include "gateway/http_types.h"
#include "infra/ports/event_log.h"
#include "projections/projector.h"
#include "projections/queries.h"

#include <atomic>
#include <memory>
#include <string>

namespace tally::gateway {

struct api_services {
  commands::command_port& bus;
  projections::projector& projector;
  projections::queries& queries;
  ports::event_log& log;
  const clock_source& clock;
  token_verifier& verifier;
  clock_control* test_clock = nullptr;  // set only with --test-clock
  schedule_fn schedule;
  const transport_metrics* transport = nullptr;  // the HTTP server's counters
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
