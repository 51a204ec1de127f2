#pragma once

// Sends HTTP requests on to other Tally processes in Kafka mode: a command
// to the gateway that owns its tenant's partition, a read to a projector.
// Beast's client lives in http_forwarder.cc only (docs/decisions/0004).

#include "gateway/http_types.h"

#include <chrono>
#include <memory>
#include <string>

namespace tally::gateway {

class http_forwarder {
 public:
  explicit http_forwarder(std::size_t threads = 1);
  ~http_forwarder();
  http_forwarder(const http_forwarder&) = delete;
  http_forwarder& operator=(const http_forwarder&) = delete;

  // Sends `request` to `base_url` ("http://host:port") and calls `done`
  // exactly once (on the forwarder's thread) with the answer as it came,
  // or with 503 `unavailable` if it could not be had within `timeout`.
  // Hop-by-hop headers are not passed on; Host is the upstream's.
  void send(const std::string& base_url, http_request request, respond_fn done,
            std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tally::gateway
