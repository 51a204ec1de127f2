#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tally {

// Bytes as lowercase hex, and back (nullopt for anything else: odd length,
// other characters).
std::string to_hex(std::string_view bytes);
std::optional<std::string> from_hex(std::string_view hex);

// The lowercase hex SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);
// SHA-256 of bytes given in parts.
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  void update(std::string_view bytes);
  // Lowercase hex; the stream is spent.
  std::string hex();

 private:
  void* ctx_;
};

// The lowercase hex HMAC-SHA256 of `bytes` under `key` (RFC 2104).
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);

}  // namespace tally
