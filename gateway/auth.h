#pragma once

#include "domain/error.h"
#include "domain/ids.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::gateway {

enum class role : std::uint8_t {
  admin = 1,
  host = 2,
  warehouse = 4,
  auditor = 8,
  customer = 16,
  public_ = 32
};
using role_set = std::uint8_t;
constexpr role_set operator|(role a, role b) {
  return static_cast<role_set>(static_cast<int>(a) | static_cast<int>(b));
}
constexpr role_set operator|(role_set a, role b) {
  return static_cast<role_set>(a | static_cast<int>(b));
}
std::optional<role> parse_role(std::string_view name);
std::string_view role_name(role r);

// Who is calling: the verified claims of the bearer token (API.md, "Auth").
struct principal {
  ids::user sub;
  ids::tenant tenant;
  role_set roles = 0;
  std::optional<std::string> name;
  [[nodiscard]] bool has(role r) const { return (roles & static_cast<role_set>(r)) != 0; }
  [[nodiscard]] bool any_of(role_set allowed) const { return (roles & allowed) != 0; }
  // A host who is neither admin nor auditor: sees and acts on only the
  // appointments they host (DOMAIN.md), and every other session.
  [[nodiscard]] bool host_scoped() const {
    return has(role::host) && !has(role::admin) && !has(role::auditor);
  }
};

// HS256 JSON Web Tokens with the server's secret. Only HS256 is accepted,
// and `exp` is checked against the real clock (never the test clock).
class token_verifier {
 public:
  explicit token_verifier(std::string secret) : secret_(std::move(secret)) {}
  [[nodiscard]] result<principal> verify(std::string_view token) const;

 private:
  std::string secret_;
};

struct token_request {
  std::string tenant;
  std::vector<std::string> roles;
  std::string sub;
  std::optional<std::string> name;
  std::chrono::seconds ttl{3600};
};
[[nodiscard]] result<std::string> sign_token(const std::string& secret,
                                             const token_request& request);

// Tenant ids are keys in every store: letters, digits, '-', '_', '.'.
bool valid_tenant(std::string_view t);
// Whether a path parameter (or a channel's session id) can be an id at all:
// 1 to 100 letters, digits, '-', '_' or '.' (gateway/request_parts.cc).
bool valid_path_id(std::string_view s);

}  // namespace tally::gateway
