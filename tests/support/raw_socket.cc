#include "support/raw_socket.h"

#include <algorithm>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tally::testing {

raw_socket::raw_socket(const std::string& base_url) {
  // "http://127.0.0.1:port"
  const auto hostport = base_url.substr(base_url.find("//") + 2);
  const auto colon = hostport.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(hostport.substr(colon + 1))));
  ::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr);
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

raw_socket::~raw_socket() {
  if (fd_ >= 0) ::close(fd_);
}

bool raw_socket::send(const std::string& bytes) {
  std::size_t done = 0;
  while (fd_ >= 0 && done < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return done == bytes.size();
}

// Appends what one recv gives within `wait`; false on a timeout or the end
// of the stream (closed() tells which).
bool raw_socket::receive(std::string& out, std::chrono::milliseconds wait) {
  if (fd_ < 0 || eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::max<long>(wait.count(), 0))) <= 0) return false;
  char buf[4096];
  const auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  out.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string raw_socket::read_all(std::chrono::milliseconds quiet) {
  std::string out;
  while (receive(out, quiet)) {
  }
  return out;
}

std::string raw_socket::read_until(const std::string& marker, std::chrono::milliseconds limit) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.find(marker) == std::string::npos &&
         receive(out, std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()))) {
  }
  return out;
}

void raw_socket::drop(bool reset) {
  if (fd_ < 0) return;
  if (reset) {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  ::close(fd_);
  fd_ = -1;
}

int count_responses(const std::string& bytes) {
  int n = 0;
  if (bytes.rfind("HTTP/1.1 ", 0) == 0) ++n;
  for (auto at = bytes.find("\nHTTP/1.1 "); at != std::string::npos;
       at = bytes.find("\nHTTP/1.1 ", at + 1))
    ++n;
  return n;
}

}  // namespace tally::testing
