#pragma once

// Ed25519 (RFC 8032) by OpenSSL, for the signed chain heads of
// docs/audit.md: the server's key in a PEM file, its public half as a JWK
// (RFC 8037), signatures in base64url.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tally {

std::string base64url(std::string_view bytes);                     // no padding
std::optional<std::string> from_base64url(std::string_view text);  // nullopt: not base64url

class ed25519_key {
 public:
  // Reads the PEM private key in `file`, or makes one there (0600) if the
  // file does not exist. nullopt, with `error` set, if it cannot.
  static std::optional<ed25519_key> load_or_create(const std::string& file, std::string& error);

  ed25519_key(ed25519_key&&) noexcept;
  ed25519_key& operator=(ed25519_key&&) noexcept;
  ~ed25519_key();

  [[nodiscard]] std::string sign(std::string_view message) const;          // 64 raw bytes
  [[nodiscard]] const std::string& public_key() const { return public_; }  // 32 raw bytes
  // The RFC 7638 thumbprint of the public JWK, base64url: the key's id.
  [[nodiscard]] const std::string& kid() const { return kid_; }
  // {"kty":"OKP","crv":"Ed25519","x":…,"kid":…}
  [[nodiscard]] std::string jwk() const;

 private:
  struct impl;
  explicit ed25519_key(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
  std::string public_;
  std::string kid_;
};

// Whether `signature` (64 raw bytes) is `public_key`'s (32 raw bytes) over `message`.
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

// The RFC 7638 thumbprint of an Ed25519 public key (raw), base64url.
std::string ed25519_kid(std::string_view public_key);

}  // namespace tally
