#include "base/ed25519.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdio>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tally {

namespace {
constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::string base64url(std::string_view bytes) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const auto i = alphabet.find(c);
    if (i == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(i);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string ed25519_kid(std::string_view public_key) {
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const std::string canonical =
      R"({"crv":"Ed25519","kty":"OKP","x":")" + base64url(public_key) + "\"}";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return base64url(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

struct ed25519_key::impl {
  EVP_PKEY* key = nullptr;
  ~impl() { EVP_PKEY_free(key); }
};

ed25519_key::ed25519_key(std::unique_ptr<impl> p) : impl_(std::move(p)) {
  std::string raw(32, '\0');
  std::size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(impl_->key, reinterpret_cast<unsigned char*>(raw.data()), &len);
  raw.resize(len);
  public_ = std::move(raw);
  kid_ = ed25519_kid(public_);
}
ed25519_key::ed25519_key(ed25519_key&&) noexcept = default;
ed25519_key& ed25519_key::operator=(ed25519_key&&) noexcept = default;
ed25519_key::~ed25519_key() = default;

std::optional<ed25519_key> ed25519_key::load_or_create(const std::string& file,
                                                       std::string& error) {
  auto p = std::make_unique<impl>();
  if (std::filesystem::exists(file)) {
    FILE* f = std::fopen(file.c_str(), "r");
    if (!f) {
      error = "cannot read the audit key " + file;
      return std::nullopt;
    }
    p->key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!p->key || EVP_PKEY_id(p->key) != EVP_PKEY_ED25519) {
      error = file + " is not an Ed25519 private key (PEM)";
      return std::nullopt;
    }
    return ed25519_key(std::move(p));
  }
  p->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!p->key) {
    error = "cannot make an Ed25519 key";
    return std::nullopt;
  }
  // Made readable by its owner only, before a byte of the key is in it.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  FILE* f = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (!f) {
    if (fd >= 0) ::close(fd);
    error = "cannot write the audit key " + file;
    return std::nullopt;
  }
  const bool written = PEM_write_PrivateKey(f, p->key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  if (!written) {
    error = "cannot write the audit key " + file;
    return std::nullopt;
  }
  return ed25519_key(std::move(p));
}

std::string ed25519_key::sign(std::string_view message) const {
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, impl_->key);
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(message.data()), message.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

std::string ed25519_key::jwk() const {
  return R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url(public_) + R"(","kid":")" + kid_ +
         "\"}";
}

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size());
  if (!key) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace tally
