#pragma once

// HTTP as the API sees it, without Beast: the server (http_server.cc)
// converts, so that only that file compiles Beast and Asio.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::gateway {

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Header value by case-insensitive name; empty if absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
  [[nodiscard]] bool has_header(std::string_view name) const;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response
};

// What the transport (http_server.cc) counts, for /metrics. Written by the
// server's threads, read by the api: atomics only.
struct transport_metrics {
  std::atomic<std::int64_t> http_connections{0};        // open HTTP connections
  std::atomic<std::int64_t> websocket_connections{0};   // open WebSocket connections
  std::atomic<std::uint64_t> accept_failures{0};        // accept() failed (e.g. out of descriptors)
  std::atomic<std::uint64_t> websocket_slow_closes{0};  // clients closed with 1008 for being slow
  std::atomic<std::uint64_t> rejected_framing{0};  // requests refused for their framing (smuggling)
};

using respond_fn = std::function<void(http_response)>;

// Runs `fn` after `delay` on the server's executor (timers without Asio here).
using schedule_fn = std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)>;

}  // namespace tally::gateway
