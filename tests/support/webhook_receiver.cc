#include "support/webhook_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace tally::testing {

webhook_receiver::webhook_receiver(
    std::function<int(const received_request&, const std::vector<received_request>&)> answer)
    : answer_(std::move(answer)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener_, 16) != 0)
    throw std::runtime_error("webhook_receiver: cannot listen");
  socklen_t len = sizeof a;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

webhook_receiver::~webhook_receiver() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  thread_.join();
  ::close(listener_);
}

std::string webhook_receiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<received_request> webhook_receiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool webhook_receiver::wait_for(
    const std::function<bool(const std::vector<received_request>&)>& done,
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(requests_); });
}

void webhook_receiver::serve() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd >= 0) {
      handle(fd);
      ::close(fd);
    }
  }
}

void webhook_receiver::handle(int fd) {
  std::string data;
  char buf[4096];
  std::size_t header_end = std::string::npos;
  std::size_t length = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    data.append(buf, static_cast<std::size_t>(n));
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
    }
    received_request r;
    std::size_t line_end = data.find("\r\n");
    const std::string first = data.substr(0, line_end);
    r.method = first.substr(0, first.find(' '));
    r.target = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
    std::size_t at = line_end + 2;
    while (at < header_end) {
      const auto end = data.find("\r\n", at);
      const std::string line = data.substr(at, end - at);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
      at = end + 2;
    }
    length = r.headers.contains("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    if (data.size() < header_end + 4 + length) continue;
    r.body = data.substr(header_end + 4, length);
    std::unique_lock lock(mutex_);
    r.answered = answer_ ? answer_(r, requests_) : 200;
    requests_.push_back(r);
    const std::string reply = "HTTP/1.1 " + std::to_string(r.answered) +
                              " Answer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    lock.unlock();
    ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    changed_.notify_all();
    return;
  }
}

}  // namespace tally::testing
