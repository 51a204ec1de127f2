#pragma once

// Raw TCP to the server, for what a well-behaved client library never sends:
// smuggling attempts, dropped connections, half-sent requests.

#include <chrono>
#include <string>

namespace tally::testing {

class raw_socket {
 public:
  // Connects to base_url ("http://127.0.0.1:port"); connected() says whether it worked.
  explicit raw_socket(const std::string& base_url);
  ~raw_socket();
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Everything the server sends until it closes the connection or `quiet`
  // passes without a byte; closed() says which.
  std::string read_all(std::chrono::milliseconds quiet = std::chrono::seconds(2));
  // What arrives until `marker` has (or `limit` passes).
  std::string read_until(const std::string& marker,
                         std::chrono::milliseconds limit = std::chrono::seconds(2));
  [[nodiscard]] bool closed() const { return eof_; }
  // Drops the connection without a word: a FIN, or with `reset` an RST.
  void drop(bool reset = false);

 private:
  bool receive(std::string& out, std::chrono::milliseconds wait);
  int fd_ = -1;
  bool eof_ = false;
};

// How many HTTP responses (status lines at the start of a line) `bytes` holds.
int count_responses(const std::string& bytes);

}  // namespace tally::testing
