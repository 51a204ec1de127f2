#include "webhooks/signing.h"

#include "base/digest.h"

#include <fmt/format.h>

namespace tally::webhooks {

std::string secret_for(std::string_view server_key, const ids::tenant& t, const ids::webhook& w) {
  // NUL separators: no tenant and id pair reads as another.
  std::string label = "tally webhook secret v1";
  label += '\0';
  label += t.value;
  label += '\0';
  label += w.value;
  return "whsec_" + hmac_sha256_hex(server_key, label);
}

std::string signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_text = t + ".";
  signed_text.append(body);
  return fmt::format("t={},v1={}", t, hmac_sha256_hex(secret, signed_text));
}

}  // namespace tally::webhooks
