#include "gateway/api_impl.h"

#include "base/digest.h"
#include "base/uuid.h"
#include "domain/limits.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>
#include <set>

#include <strings.h>

namespace tally::gateway {

namespace {

constexpr std::chrono::seconds min_position_wait{5};

std::string http_date(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  static constexpr std::array<const char*, 7> days{"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto d = floor<std::chrono::days>(tp);
  const year_month_day ymd{d};
  const hh_mm_ss hms{floor<seconds>(tp - d)};
  const auto weekday_index = static_cast<std::size_t>(((d.time_since_epoch().count() % 7) + 7) % 7);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", days[weekday_index],
                     static_cast<unsigned>(ymd.day()),
                     months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// The version of an answer about one resource (its ETag).
struct versioned {
  std::optional<std::int64_t> version;
};
BOOST_DESCRIBE_STRUCT(versioned, (), (version))

}  // namespace

cors_policy cors_policy::from_list(std::string_view list) {
  cors_policy p;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '/')) item.remove_suffix(1);
    if (item == "*")
      p.any = true;
    else if (!item.empty())
      p.origins.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return p;
}

bool cors_policy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any) return true;
  // Origins compare as the browser sends them: scheme, host and port, exactly.
  return std::find(origins.begin(), origins.end(), origin) != origins.end();
}

void add_common_headers(http_response& r, const clock_source& clock) {
  r.headers.emplace_back("Date", http_date(std::chrono::system_clock::now()));
  r.headers.emplace_back("Tally-Server-Time", format_rfc3339(clock.now()));
}

namespace {

// The query parameters each path takes (API.md); a GET also takes
// min_position. Any other is refused with 400 naming it.
std::vector<std::string> params_of(std::string_view method, std::string_view pattern) {
  static const std::map<std::string, std::vector<std::string>, std::less<>> table{
      {"GET /v1/sessions",
       {"status", "kind", "payment_status", "outcome", "customer_id", "host_id", "invoiced", "from",
        "to", "q", "order", "limit", "cursor"}},
      {"GET /v1/sessions/active", {"limit", "cursor"}},
      {"GET /v1/sessions/{id}", {"version", "as_of"}},
      {"GET /v1/sessions/{id}/events", {"limit", "cursor"}},
      {"GET /v1/picklist", {"include"}},
      {"GET /v1/customers",
       {"q", "active", "has_active_session", "min_sessions", "max_sessions", "min_paid_cents",
        "max_paid_cents", "registered_from", "registered_to", "city", "country", "limit",
        "cursor"}},
      {"GET /v1/resources", {"limit", "cursor"}},
      {"GET /v1/inventory", {"q", "location", "available", "limit", "cursor"}},
      {"GET /v1/invoices",
       {"payment_status", "customer_id", "session_id", "standalone", "from", "to", "limit",
        "cursor"}},
      {"GET /v1/analytics/summary", {"from", "to"}},
      {"GET /v1/analytics/picking", {"from", "to"}},
      {"GET /v1/webhooks", {"limit", "cursor"}},
      {"GET /v1/webhooks/{id}/deliveries", {"limit", "cursor"}},
      {"GET /v1/events", {"after", "limit"}},
      {"GET /v1/stream", {"access_token"}},
  };
  std::vector<std::string> out;
  if (auto it = table.find(std::string(method) + " " + std::string(pattern)); it != table.end())
    out = it->second;
  if (method == "GET") out.emplace_back("min_position");
  return out;
}

}  // namespace

void api::impl::add(std::string method, std::string pattern, role_set roles, handler h) {
  auto params = params_of(method, pattern);
  static const std::set<std::string_view> one_resource{
      "/v1/sessions/{id}", "/v1/customers/{id}", "/v1/resources/{id}", "/v1/inventory/{item_id}",
      "/v1/invoices/{id}", "/v1/webhooks/{id}",  "/v1/settings"};
  const bool tagged = method == "GET" && one_resource.contains(pattern);
  paths.add(method, pattern, routes.size());
  routes.push_back(
      {std::move(method), std::move(pattern), roles, std::move(h), tagged, std::move(params)});
}

bool api::impl::may_see_session(const call_ptr& c, const ids::session& id) {
  if (customer_only(c)) {
    const auto owner = s.queries->session_customer(c->who.tenant, id);
    return may_see(c, owner ? std::optional(owner->value) : std::nullopt, "session " + id.value);
  }
  if (!c->who.host_scoped()) return true;
  const auto o = s.queries->session_owner_of(c->who.tenant, id);
  if (!o || o->kind != session_kind::appointment || o->host_id == c->who.sub) return true;
  fail(c, make_error(errc::not_found, "session " + id.value + " does not exist"));
  return false;
}

bool api::impl::may_see(const call_ptr& c, const std::optional<std::string>& owner,
                        const std::string& what) {
  if (!customer_only(c) || (owner && *owner == c->who.sub.value)) return true;
  fail(c, make_error(errc::not_found, what + " does not exist"));
  return false;
}

void api::impl::finish(const call_ptr& c, http_response r) {
  add_common_headers(r, s.clock);
  // This process's policy decides, also for an answer relayed from
  // another process (which may have added its own).
  std::erase_if(r.headers, [](const auto& h) {
    return strncasecmp(h.first.c_str(), "Access-Control-", 15) == 0 ||
           strcasecmp(h.first.c_str(), "Vary") == 0;
  });
  if (const auto origin = c->request.header("Origin"); s.cors.allows(origin)) {
    r.headers.emplace_back("Access-Control-Allow-Origin", s.cors.any ? "*" : std::string(origin));
    if (!c->preflight_methods.empty()) {
      r.headers.emplace_back("Access-Control-Allow-Methods", c->preflight_methods);
      r.headers.emplace_back("Access-Control-Allow-Headers",
                             "Authorization, Content-Type, Idempotency-Key, If-Match, "
                             "If-None-Match, Tally-Min-Position");
      r.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    r.headers.emplace_back("Access-Control-Expose-Headers",
                           "Tally-Position, Tally-Server-Time, ETag, Retry-After, Location");
    if (!s.cors.any) r.headers.emplace_back("Vary", "Origin");
  }
  responses[static_cast<std::size_t>(std::clamp(r.status / 100, 0, 5))]++;
  timings[std::min(c->route, routes.size())].observe(
      r.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - c->began).count());
  auto respond = std::move(c->respond);
  c->respond = nullptr;
  if (respond) respond(std::move(r));
}

void api::impl::answer(const call_ptr& c, const result<std::string>& r) {
  if (!r) return fail(c, r.err());
  if (!c->tagged) return json_ok(c, *r);
  // One resource: its version is a strong entity tag (RFC 9110 8.8.3), and
  // If-None-Match with it (weak comparison, 13.1.2) answers 304.
  const auto v = json::read_own<versioned>(*r);
  if (!v || !v->version) return json_ok(c, *r);
  const std::string tag = fmt::format("\"{}\"", *v->version);
  http_response out;
  out.headers.emplace_back("ETag", tag);
  if (c->request.has_header("If-None-Match") &&
      none_match_hits(c->request.header("If-None-Match"), tag)) {
    out.status = 304;
    out.content_type.clear();
  } else {
    out.body = *r;
  }
  finish(c, std::move(out));
}

bool api::impl::none_match_hits(std::string_view list, std::string_view tag) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == tag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void api::impl::after_min_position(const call_ptr& c, std::function<void()> then) {
  std::string token(c->request.header("Tally-Min-Position"));
  if (auto q = query(c, "min_position")) token = *q;
  if (token.empty()) return then();
  auto pos = ports::position::parse(token);
  if (!pos || pos->partition >= s.log.partition_count()) {
    return fail(c, invalid_field("min_position", "is not a position token this server gave"));
  }
  if (s.projector->reached(*pos)) return then();
  // Woken by the projector when it applies the position, or failed after
  // min_position_wait, whichever comes first (no polling).
  struct wait_state {
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> id{0};
  };
  auto w = std::make_shared<wait_state>();
  auto self = shared_from_this();
  // The query runs on the server's threads, not the projector's.
  const auto id = s.projector->when_reached(*pos, [self, w, then] {
    if (!w->done.exchange(true)) self->s.schedule(std::chrono::milliseconds(0), then);
  });
  if (id == 0) return;  // reached already: `then` is scheduled
  w->id = id;
  s.schedule(min_position_wait, [self, c, w] {
    if (w->done.exchange(true)) return;
    self->s.projector->forget(w->id);
    self->fail(c, make_error(errc::projection_lagging,
                             "the read models have not reached that position yet"));
  });
}

void api::impl::read(const call_ptr& c, std::function<result<std::string>()> q) {
  // A tenant whose read models stopped at a record that cannot be read has
  // none it can trust: refused, not served stale (docs/operations.md).
  if (s.projector)
    if (const auto stop = s.projector->stops().stop_of(c->who.tenant))
      return fail(c, make_error(errc::unavailable,
                                fmt::format("this tenant's read models are stopped at {}: {}; "
                                            "they serve again once an operator repairs it",
                                            stop->pos.token(), stop->reason)));
  read_log(c, std::move(q));
}

void api::impl::read_log(const call_ptr& c, std::function<result<std::string>()> q) {
  after_min_position(c, [this, c, q = std::move(q)] {
    try {
      answer(c, q());
    } catch (const std::exception& ex) {
      spdlog::error("query {} failed: {}", c->path, ex.what());
      fail(c, make_error(errc::internal, "the query failed"));
    }
  });
}

void api::impl::submit(const call_ptr& c, command cmd, int success_status, reshape_fn reshape) {
  commands::command_request req;
  req.cmd = std::move(cmd);
  submit_request(c, std::move(req), success_status, std::move(reshape));
}

void api::impl::submit_request(const call_ptr& c, commands::command_request req, int success_status,
                               reshape_fn reshape) {
  req.tenant = c->who.tenant;
  req.actor = c->who.sub;
  req.actor_name = c->who.name;
  req.actor_is_admin = c->who.has(role::admin);
  req.host_scoped = c->who.host_scoped();
  req.customer_scoped = customer_only(c);
  if (!idempotency_key(c, req.idempotency_key)) return;
  if (c->request.has_header("If-Match")) {
    std::string_view v = c->request.header("If-Match");
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v == "*") {
      req.if_match = commands::any_version;  // any existing version (RFC 9110 13.1.1)
    } else if (v.starts_with("W/")) {
      req.if_match = commands::weak_version;  // 412 once the command is valid
    } else {
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      const auto n = parse_int(v);
      if (!n || *n < 0)
        return fail(c, invalid_field("If-Match", "must be an ETag such as \"3\", or *"));
      req.if_match = *n;
    }
  }
  req.request_digest = sha256_hex(c->request.method + " " + c->path + "\n" + c->request.body);
  req.correlation_id = req.idempotency_key.value_or(new_uuid());
  auto self = shared_from_this();
  const bool tagged = req.bulk.empty();  // a bulk answer is about no one resource
  s.bus.submit(std::move(req),
               [self, c, success_status, reshape, tagged](commands::command_reply reply) {
                 if (reply.failure) {
                   self->commands_failed++;
                   return self->fail(c, *reply.failure);
                 }
                 (reply.replayed ? self->commands_replayed : self->commands_ok)++;
                 http_response r;
                 r.status = success_status;
                 r.body = reshape ? reshape(reply.body) : std::move(reply.body);
                 if (reply.position)
                   r.headers.emplace_back("Tally-Position", reply.position->token());
                 if (tagged)
                   r.headers.emplace_back("ETag", fmt::format("\"{}\"", reply.version.value));
                 if (reply.replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
                 self->finish(c, std::move(r));
               });
}

void api::impl::dispatch(const call_ptr& c) {
  auto url = boost::urls::parse_origin_form(c->request.target);
  if (!url) return fail(c, make_error(errc::invalid_request, "the request target is not valid"));
  std::vector<std::string> segs;
  for (auto seg : url->segments()) segs.push_back(seg);
  c->path = std::string(url->path());
  for (auto p : url->params()) {
    if (c->query.contains(p.key))
      return fail(c, invalid_field(p.key, "appears more than once in the query"));
    c->query[p.key] = p.value;
  }
  const auto found = paths.find(c->request.method, segs);
  auto allowed = [&] {
    std::string out;
    for (const auto& m : found.methods) out += (out.empty() ? "" : ", ") + m;
    return out;
  };
  // A browser's preflight (Fetch standard, CORS): answered here for an
  // allowed origin and a path that exists; others go on and get 405.
  if (c->request.method == "OPTIONS" && c->request.has_header("Access-Control-Request-Method") &&
      s.cors.allows(c->request.header("Origin")) && found.path_known) {
    c->preflight_methods = allowed();
    http_response r;
    r.status = 204;
    r.content_type.clear();
    return finish(c, std::move(r));  // finish adds the CORS headers
  }
  if (!found.value) {
    if (!found.path_known) return fail(c, make_error(errc::not_found, "no such path: " + c->path));
    // RFC 9110 15.5.6: a 405 lists the methods the resource takes.
    auto r = problem_response(
        make_error(errc::method_not_allowed, c->request.method + " is not allowed here"));
    r.headers.emplace_back("Allow", allowed());
    return finish(c, std::move(r));
  }
  const auto& r = routes[*found.value];
  c->route = *found.value;
  for (const auto& [name, value] : found.params) {
    if (!valid_path_id(value))
      return fail(c, make_error(errc::not_found, name + " does not exist"));
    c->params.emplace(name, value);
  }
  c->tagged = r.tagged;
  if (r.roles) {
    const std::string token = bearer_token(c->request);
    if (token.empty() && c->query.contains("access_token"))
      // A token in a URL ends up in logs and browser history: only the
      // WebSocket upgrade, which cannot send headers from a browser, takes one.
      return fail(c, make_error(errc::unauthorized,
                                "send the token in the Authorization header; ?access_token= "
                                "is accepted on /v1/stream only"));
    auto who = s.verifier.verify(token);
    if (!who) return fail(c, who.err());
    c->who = *who;
    if (!c->who.any_of(r.roles))
      return fail(c, make_error(errc::forbidden, "this role may not do that"));
  }
  for (const auto& [name, value] : c->query) {
    if (std::find(r.params.begin(), r.params.end(), name) != r.params.end()) continue;
    std::string known;
    for (const auto& p : r.params) known += (known.empty() ? "" : ", ") + p;
    return fail(
        c, invalid_field(name, known.empty()
                                   ? "is not a parameter of this path (it takes none)"
                                   : "is not a parameter of this path (it takes " + known + ")"));
  }
  if (s.routes && pass_on(c)) return;
  try {
    r.run(*this, c);
  } catch (const std::exception& ex) {
    spdlog::error("{} {} failed: {}", c->request.method, c->path, ex.what());
    fail(c, make_error(errc::internal, "the request failed"));
  }
}

bool api::impl::pass_on(const call_ptr& c) {
  static constexpr std::string_view local[] = {"/healthz",          "/readyz",
                                               "/metrics",          "/v1/openapi.json",
                                               "/v1/asyncapi.json", "/v1/admin/clock"};
  if (std::find(std::begin(local), std::end(local), c->path) != std::end(local)) return false;
  if (c->path == "/console" || c->path.starts_with("/console/")) return false;  // compiled in
  const auto& routes = *s.routes;
  auto self = shared_from_this();
  auto relay = [self, c](http_response r) { self->finish(c, std::move(r)); };
  if (c->request.method == "GET" || c->request.method == "HEAD") {
    // HEAD goes on as GET: this process's server leaves the body out.
    http_request get = c->request;
    get.method = "GET";
    routes.send(routes.projector_url, std::move(get), relay);
    return true;
  }
  const auto partition = s.log.partition_of(c->who.tenant);
  if (routes.decides(partition)) return false;
  if (c->request.has_header("Tally-Forwarded-By")) {
    // Forwarded once already: the partition is moving between gateways.
    fail(c, make_error(errc::unavailable,
                       "the tenant's partition is moving to another gateway; retry"));
    return true;
  }
  const auto owner = routes.owner(partition);
  if (!owner || *owner == routes.self_url) {
    fail(c, make_error(errc::unavailable, "no gateway decides this tenant's commands yet; retry"));
    return true;
  }
  http_request forwarded = c->request;
  forwarded.headers.emplace_back("Tally-Forwarded-By", routes.self_url);
  routes.send(*owner, std::move(forwarded), relay);
  return true;
}

api::api(api_services services) : impl_(std::make_shared<impl>(std::move(services))) {}
api::~api() = default;

void api::handle(http_request request, respond_fn respond) {
  auto c = std::make_shared<impl::call>();
  c->request = std::move(request);
  impl_->in_flight++;
  c->respond = [self = impl_, respond = std::move(respond)](http_response r) {
    self->in_flight--;
    respond(std::move(r));
  };
  impl_->dispatch(c);
}

std::vector<std::string> api::routes() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->routes) out.push_back(r.method + " " + r.pattern);
  return out;
}

std::int64_t api::in_flight() const { return impl_->in_flight.load(); }

result<principal> api::authorize_stream(const http_request& request) const {
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url || url->path() != "/v1/stream") return make_error(errc::not_found, "no such stream");
  // The header, as everywhere; else ?access_token=, which a browser's
  // WebSocket needs (it cannot send headers).
  std::string token = bearer_token(request);
  if (token.empty())
    for (auto p : url->params())
      if (p.key == "access_token") token = p.value;
  return impl_->s.verifier.verify(token);
}

}  // namespace tally::gateway
