#include "support/ws_client.h"

#include "support/contract_log.h"

#include <cstring>
#include <random>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tally::testing {

boost::json::value ws_message::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return ec ? boost::json::value() : v;
}

ws_client::ws_client(const std::string& base_url, const std::string& path, int receive_buffer) {
  // base_url: http://HOST:PORT
  const auto host_at = base_url.find("://") + 3;
  const auto colon = base_url.rfind(':');
  const std::string host = base_url.substr(host_at, colon - host_at);
  const int port = std::stoi(base_url.substr(colon + 1));
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\n" +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\n\r\n";
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (buffer_.find("\r\n\r\n") == std::string::npos)
    if (!fill(buffer_.size() + 1, deadline)) break;
  const auto end = buffer_.find("\r\n\r\n");
  if (end == std::string::npos) return;
  handshake_ = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  upgraded_ = handshake_.rfind("HTTP/1.1 101", 0) == 0;
  if (!upgraded_) {
    // The body of a refusal (problem details) follows the headers.
    fill(buffer_.size() + 1, std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
    handshake_ += "\r\n\r\n" + buffer_;
  }
}

ws_client::~ws_client() {
  if (fd_ >= 0) ::close(fd_);
}

bool ws_client::fill(std::size_t n, std::chrono::steady_clock::time_point deadline) {
  while (buffer_.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    const auto got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
  return true;
}

void ws_client::send(const std::string& text) {
  std::string frame;
  frame += static_cast<char>(0x81);
  const std::size_t n = text.size();
  if (n < 126) {
    frame += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>((n >> 8) & 0xff);
    frame += static_cast<char>(n & 0xff);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) frame += static_cast<char>((n >> (8 * i)) & 0xff);
  }
  std::mt19937 rng(std::random_device{}());
  char mask[4];
  for (auto& m : mask) m = static_cast<char>(rng() & 0xff);
  frame.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i) frame += static_cast<char>(text[i] ^ mask[i % 4]);
  ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL);
}

std::optional<ws_message> ws_client::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string payload;
  for (;;) {
    if (!fill(2, deadline)) return std::nullopt;
    const auto b0 = static_cast<unsigned char>(buffer_[0]);
    const auto b1 = static_cast<unsigned char>(buffer_[1]);
    std::size_t len = b1 & 0x7f, header = 2;
    if (len == 126) {
      if (!fill(4, deadline)) return std::nullopt;
      len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      header = 4;
    } else if (len == 127) {
      if (!fill(10, deadline)) return std::nullopt;
      len = 0;
      for (int i = 2; i < 10; ++i)
        len = (len << 8) | static_cast<unsigned char>(buffer_[static_cast<std::size_t>(i)]);
      header = 10;
    }
    if (!fill(header + len, deadline)) return std::nullopt;
    std::string data = buffer_.substr(header, len);
    buffer_.erase(0, header + len);
    const int opcode = b0 & 0x0f;
    if (opcode == 8) {
      ws_message m;
      m.is_close = true;
      if (data.size() >= 2)
        m.close_code =
            (static_cast<unsigned char>(data[0]) << 8) | static_cast<unsigned char>(data[1]);
      m.text = data.size() > 2 ? data.substr(2) : "";
      return m;
    }
    if (opcode == 9 || opcode == 10) continue;  // ping / pong
    payload += data;
    if (b0 & 0x80) {
      record_ws(payload);
      return ws_message{false, 0, std::move(payload)};
    }
  }
}

}  // namespace tally::testing
