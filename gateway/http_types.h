#pragma once

// HTTP as the API sees it, without Beast: the server (http_server.cc)
// converts, so that only that file compiles Beast and Asio.

#include <chrono>
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

using respond_fn = std::function<void(http_response)>;

// Runs `fn` after `delay` on the server's executor (timers without Asio here).
using schedule_fn = std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)>;

}  // namespace tally::gateway
