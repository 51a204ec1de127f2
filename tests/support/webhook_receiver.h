#pragma once

// A webhook receiver on 127.0.0.1 for tests: answers each POST with the
// status `answer` chooses and records what it received.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tally::testing {

struct received_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int answered = 0;  // the status sent back
};

class webhook_receiver {
 public:
  // `answer` sees each request (and those before it) and returns the status.
  explicit webhook_receiver(
      std::function<int(const received_request&, const std::vector<received_request>&)> answer =
          nullptr);
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  [[nodiscard]] std::string url(const std::string& path = "/hook") const;
  [[nodiscard]] std::vector<received_request> requests() const;
  // Waits until `done` holds for the requests so far; false after `timeout`.
  bool wait_for(const std::function<bool(const std::vector<received_request>&)>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  void serve();
  void handle(int fd);

  std::function<int(const received_request&, const std::vector<received_request>&)> answer_;
  int listener_ = -1;
  int port_ = 0;
  bool stop_ = false;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<received_request> requests_;
  std::thread thread_;
};

}  // namespace tally::testing
