#include "gateway/auth.h"

#include "base/json.h"
#include "domain/decide.h"
#include "domain/limits.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <jwt.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace tally::gateway {

namespace {
struct jwt_deleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using jwt_ptr = std::unique_ptr<jwt_t, jwt_deleter>;

error unauthorized(std::string detail) { return make_error(errc::unauthorized, std::move(detail)); }

// Whether a claim that reaches events (sub, name) reads back: valid UTF-8,
// no control characters (API.md: nothing a client sends can make the log
// unreadable). libjwt's JSON reader checks UTF-8 already; this does not
// rely on it.
bool clean_text(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size()) &&
         std::none_of(s.begin(), s.end(),
                      [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
}

// Why a token's sub or name cannot be kept, or "".
std::string claim_problem(std::string_view sub, const std::optional<std::string>& name) {
  if (!valid_user_id(sub) || !clean_text(sub))
    return fmt::format("the token's sub must be 1 to {} bytes of UTF-8 with no control characters",
                       max_user_id);
  if (name && (!clean_text(*name) || characters(*name) > max_name))
    return fmt::format(
        "the token's name must be UTF-8 of at most {} characters with no control "
        "characters",
        max_name);
  return "";
}

std::int64_t real_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::optional<role> parse_role(std::string_view n) {
  if (n == "admin") return role::admin;
  if (n == "host") return role::host;
  if (n == "warehouse") return role::warehouse;
  if (n == "auditor") return role::auditor;
  if (n == "customer") return role::customer;
  if (n == "public") return role::public_;
  return std::nullopt;
}

std::string_view role_name(role r) {
  switch (r) {
    case role::admin:
      return "admin";
    case role::host:
      return "host";
    case role::warehouse:
      return "warehouse";
    case role::auditor:
      return "auditor";
    case role::customer:
      return "customer";
    case role::public_:
      return "public";
  }
  return "";
}

bool valid_tenant(std::string_view t) {
  return !t.empty() && t.size() <= 64 && std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

result<principal> token_verifier::verify(std::string_view token) const {
  if (token.empty() || token.size() > 8192) return unauthorized("a bearer token is required");
  // The header must say HS256 before the signature is even checked, so that
  // "none" or an asymmetric algorithm can never be accepted.
  const std::string tok(token);
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, tok.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 0 ||
      !raw)
    return unauthorized("the token is not valid");
  jwt_ptr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256)
    return unauthorized("only HS256 tokens are accepted");
  errno = 0;
  const long exp = jwt_get_grant_int(jwt.get(), "exp");
  if (errno != 0 || exp <= 0) return unauthorized("the token has no exp");
  if (exp <= real_now_seconds()) return unauthorized("the token has expired");
  errno = 0;
  if (const long nbf = jwt_get_grant_int(jwt.get(), "nbf"); errno == 0 && nbf > real_now_seconds())
    return unauthorized("the token is not valid yet (nbf)");
  const char* sub = jwt_get_grant(jwt.get(), "sub");
  const char* tenant = jwt_get_grant(jwt.get(), "tenant");
  if (!sub || !*sub) return unauthorized("the token has no sub");
  if (!tenant || !valid_tenant(tenant)) return unauthorized("the token has no valid tenant");
  principal p{ids::user{sub}, ids::tenant{tenant}, 0, std::nullopt};
  if (const char* name = jwt_get_grant(jwt.get(), "name")) p.name = name;
  if (auto problem = claim_problem(p.sub.value, p.name); !problem.empty())
    return invalid_field("Authorization", problem);
  char* roles_json = jwt_get_grants_json(jwt.get(), "roles");
  if (!roles_json) return unauthorized("the token has no roles");
  std::unique_ptr<char, decltype(&std::free)> roles_owner(roles_json, &std::free);
  std::vector<std::string> roles;
  if (!json::parse(roles_json, roles).empty())
    return unauthorized("roles must be an array of strings");
  for (const auto& r : roles) {
    if (auto known = parse_role(r))
      p.roles = static_cast<role_set>(p.roles | static_cast<role_set>(*known));
  }
  if (!p.roles) return unauthorized("the token has no known role");
  return p;
}

result<std::string> sign_token(const std::string& secret, const token_request& request) {
  if (!valid_tenant(request.tenant))
    return invalid_field("tenant", "must be letters, digits, '-', '_' or '.'");
  for (const auto& r : request.roles)
    if (!parse_role(r)) return invalid_field("role", "unknown role " + r);
  if (auto problem = claim_problem(request.sub, std::nullopt); !problem.empty())
    return invalid_field("sub", problem);
  if (auto problem = claim_problem(request.sub, request.name); !problem.empty())
    return invalid_field("name", problem);
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return make_error(errc::internal, "cannot make a token");
  jwt_ptr jwt(raw);
  const auto now = real_now_seconds();
  boost::json::object grants;
  grants["sub"] = request.sub;
  grants["tenant"] = request.tenant;
  boost::json::array roles;
  for (const auto& r : request.roles) roles.emplace_back(r);
  grants["roles"] = std::move(roles);
  grants["iat"] = now;
  grants["exp"] = now + request.ttl.count();
  if (request.name) grants["name"] = *request.name;
  const std::string grants_json = boost::json::serialize(grants);
  if (jwt_add_grants_json(jwt.get(), grants_json.c_str()) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0)
    return make_error(errc::internal, "cannot make a token");
  char* encoded = jwt_encode_str(jwt.get());
  if (!encoded) return make_error(errc::internal, "cannot encode the token");
  std::string out(encoded);
  std::free(encoded);
  return out;
}

}  // namespace tally::gateway
