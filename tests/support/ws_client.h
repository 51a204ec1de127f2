#pragma once

// A small blocking WebSocket client (RFC 6455) for tests: text frames,
// masking, close frames. Enough to drive /v1/stream; not a general client.

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace tally::testing {

struct ws_message {
  bool is_close = false;
  int close_code = 0;
  std::string text;
  [[nodiscard]] boost::json::value json() const;
};

class ws_client {
 public:
  // Connects to base_url ("http://127.0.0.1:port") + path; `receive_buffer`
  // (bytes, 0 = default) makes a slow reader's buffers small.
  ws_client(const std::string& base_url, const std::string& path_and_query, int receive_buffer = 0);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0 && upgraded_; }
  [[nodiscard]] const std::string& handshake_response() const { return handshake_; }
  void send(const std::string& text);
  // The next message, or nullopt on timeout or a closed connection (closed() tells).
  std::optional<ws_message> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  [[nodiscard]] bool closed() const { return eof_; }
  // The next message that is not a `picklist.*`/event on another channel
  // filter: reads until `pred` matches or the timeout passes.
  template <class Pred>
  std::optional<ws_message> read_until(
      Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = read(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!m) return std::nullopt;
      if (pred(*m)) return m;
    }
    return std::nullopt;
  }

 private:
  bool fill(std::size_t n, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool upgraded_ = false;
  bool eof_ = false;
  std::string handshake_;
  std::string buffer_;
};

}  // namespace tally::testing
