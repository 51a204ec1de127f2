#pragma once

#include "domain/clock.h"
#include "gateway/api.h"
#include "gateway/http_types.h"
#include "gateway/stream_hub.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tally::gateway {

// The HTTP server (Boost.Beast; the only file that compiles it is
// http_server.cc). One coroutine per connection on its own strand, a read
// timeout and a 1 MiB body limit on every request, keep-alive.
//
// Lifecycle: construct, take schedule() for the api, then run(api) on the
// calling thread: it listens, calls `on_listening` with "host:port", serves
// on `threads` threads, and returns after SIGINT/SIGTERM or stop(): new
// connections are refused, every request already read is answered (up to
// `drain`), then it returns.
class http_server {
 public:
  struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::size_t threads = 2;
    std::chrono::seconds read_timeout{30};
    std::size_t body_limit = 1024 * 1024;
    std::chrono::seconds drain{8};
    bool handle_signals = true;
    // Without a hub: WebSocket upgrades of /v1/stream are passed on to this
    // process ("http://host:port", a projector) and piped both ways, so that
    // clients of a Kafka gateway use one origin.
    std::string stream_upstream;
  };

  http_server(options opts, const clock_source& clock);
  ~http_server();

  [[nodiscard]] schedule_fn schedule();
  // Connections, accept failures and refused framings, for /metrics.
  [[nodiscard]] const transport_metrics& metrics() const;
  // Returns an error if it cannot listen.
  // `hub` serves WebSocket upgrades of /v1/stream (none: upgrades are refused).
  status run(api& handler, class stream_hub* hub,
             const std::function<void(const std::string& endpoint)>& on_listening);
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tally::gateway
