// Reading the parts of a request: integers, the bearer token and path ids;
// the query's typed parameters (each refused with 400 naming it); the
// headers a command keeps (Idempotency-Key) and the body's media type.

#include "gateway/api_impl.h"

#include "domain/limits.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <strings.h>

namespace tally::gateway {

namespace {
constexpr std::size_t max_idempotency_key = 255;
}  // namespace

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return n;
}

std::string bearer_token(const http_request& request) {
  std::string_view auth = request.header("Authorization");
  if (auth.size() > 7 && strncasecmp(auth.data(), "Bearer ", 7) == 0)
    return std::string(auth.substr(7));
  return "";
}

bool valid_path_id(std::string_view s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<projections::page_request> api::impl::page(const call_ptr& c) {
  projections::page_request p;
  std::optional<std::int64_t> limit;
  if (!int_param(c, "limit", limit, 1, 500)) return std::nullopt;
  if (limit) p.limit = static_cast<std::size_t>(*limit);
  if (auto cur = query(c, "cursor")) p.cursor = *cur;
  return p;
}

bool api::impl::int_param(const call_ptr& c, const char* name, std::optional<std::int64_t>& out,
                          std::int64_t min, std::int64_t max) {
  auto v = query(c, name);
  if (!v) return true;
  const auto n = parse_int(*v);
  if (!n || *n < min || *n > max) {
    const bool any = min == -json::max_safe_integer && max == json::max_safe_integer;
    fail(c, invalid_field(name, any ? "must be an integer"
                                : min == 1 && max == json::max_safe_integer
                                    ? "must be a positive integer"
                                    : fmt::format("must be an integer from {} to {}", min, max)));
    return false;
  }
  out = n;
  return true;
}

bool api::impl::bool_param(const call_ptr& c, const char* name, std::optional<bool>& out) {
  auto v = query(c, name);
  if (!v) return true;
  if (*v != "true" && *v != "false") {
    fail(c, invalid_field(name, "must be true or false"));
    return false;
  }
  out = *v == "true";
  return true;
}

bool api::impl::time_param(const call_ptr& c, const char* name, std::optional<timestamp>& out) {
  auto v = query(c, name);
  if (!v) return true;
  out = parse_rfc3339(*v);
  if (!out || !client_time_in_range(*out)) {
    fail(c, invalid_field(name, !out ? std::string("must be an RFC 3339 time")
                                     : "must lie " + std::string(client_time_range)));
    return false;
  }
  return true;
}

bool api::impl::json_content_type(const call_ptr& c) {
  if (!c->request.has_header("Content-Type")) return true;
  const std::string_view value = c->request.header("Content-Type");
  auto lower = [](std::string_view v) {
    std::string out(v);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  auto trim = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  const auto semicolon = value.find(';');
  const std::string type = lower(trim(value.substr(0, semicolon)));
  bool ok =
      type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
  for (auto rest = semicolon == std::string_view::npos ? std::string_view{}
                                                       : value.substr(semicolon + 1);
       ok && !rest.empty();) {
    const auto next = rest.find(';');
    const auto param = trim(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
    const auto eq = param.find('=');
    if (eq == std::string_view::npos || lower(trim(param.substr(0, eq))) != "charset") continue;
    auto charset = trim(param.substr(eq + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"')
      charset = charset.substr(1, charset.size() - 2);
    ok = lower(charset) == "utf-8";
  }
  if (ok) return true;
  fail(c, make_error(errc::unsupported_media_type,
                     "the body must be JSON in UTF-8 (Content-Type: application/json), not " +
                         std::string(value)));
  return false;
}

bool api::impl::idempotency_key(const call_ptr& c, std::optional<std::string>& out) {
  if (!c->request.has_header("Idempotency-Key")) return true;
  const std::string_view key = c->request.header("Idempotency-Key");
  // Visible ASCII only (API.md): the key goes into every event of the
  // command, which must read back as UTF-8, and into the caller's log lines.
  if (key.empty() || key.size() > max_idempotency_key ||
      !std::all_of(key.begin(), key.end(), [](char ch) { return ch >= 0x21 && ch <= 0x7e; })) {
    fail(c, invalid_field("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
    return false;
  }
  out = std::string(key);
  return true;
}

}  // namespace tally::gateway
