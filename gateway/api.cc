#include "gateway/api.h"

#include "base/digest.h"
#include "base/json.h"

#include <boost/json.hpp>
#include "base/uuid.h"
#include "gateway/openapi.h"
#include "gateway/problem.h"
#include "webhooks/signing.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <array>
#include <charconv>
#include <map>
#include <mutex>
#include <set>

#include <strings.h>

namespace tally::gateway {

namespace {

constexpr std::chrono::seconds min_position_wait{5};
constexpr std::size_t max_idempotency_key = 255;

// What a `public` caller learns from its booking: the booking, never the
// customer record an e-mail address may already belong to (API.md).
std::string public_booking_answer(const std::string& session_json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(session_json, ec);
  if (ec || !v.is_object()) return "{}";
  boost::json::object out;
  for (const char* field :
       {"session_id", "kind", "status", "title", "scheduled_start", "duration_minutes", "version"})
    if (const auto* f = v.as_object().if_contains(field)) out[field] = *f;
  return boost::json::serialize(out);
}

constexpr role_set staff_read = role::admin | role::host | role::auditor;
constexpr role_set staff_write = role::admin | role::host;
constexpr role_set admin_only = static_cast<role_set>(role::admin);
constexpr role_set stock_write = role::admin | role::warehouse;
constexpr role_set stock_read = role::admin | role::host | role::warehouse | role::auditor;
constexpr role_set audit_read = role::admin | role::auditor;
constexpr role_set session_read = staff_read | role::customer;
constexpr role_set invoice_read = staff_read | role::customer;

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

bool valid_path_id(std::string_view s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

enum class bulk_action { end, mark_paid, cancel };
BOOST_DESCRIBE_ENUM(bulk_action, end, mark_paid, cancel)

struct bulk_request {
  std::vector<std::string> session_ids;
  bulk_action action = bulk_action::end;
};
BOOST_DESCRIBE_STRUCT(bulk_request, (), (session_ids, action))

struct clock_answer {
  timestamp now;
  std::int64_t offset_seconds = 0;
};
BOOST_DESCRIBE_STRUCT(clock_answer, (), (now, offset_seconds))

// The version of an answer about one resource (its ETag).
struct versioned {
  std::optional<std::int64_t> version;
};
BOOST_DESCRIBE_STRUCT(versioned, (), (version))

struct advance_clock {
  std::int64_t advance_seconds = 0;
};
BOOST_DESCRIBE_STRUCT(advance_clock, (), (advance_seconds))

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

struct api::impl : std::enable_shared_from_this<api::impl> {
  struct call {
    http_request request;
    principal who;
    std::map<std::string, std::string> params;
    std::map<std::string, std::string> query;
    respond_fn respond;
    std::string path;
    std::string preflight_methods;  // set when this is a CORS preflight
    bool tagged = false;            // a read of one resource: ETag and 304
    std::size_t route = no_route;   // index in `routes` once matched
    std::chrono::steady_clock::time_point began = std::chrono::steady_clock::now();
  };
  static constexpr std::size_t no_route = static_cast<std::size_t>(-1);
  using call_ptr = std::shared_ptr<call>;
  using handler = std::function<void(impl&, const call_ptr&)>;

  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    role_set roles = 0;  // 0: no token needed
    handler run;
  };

  // Request durations of one route (or of requests no route matched), by
  // status code: a few codes per route, found under the route's own lock.
  struct route_timings {
    std::mutex m;
    std::vector<std::pair<int, std::unique_ptr<histogram>>> by_status;
    void observe(int status, double seconds) {
      histogram* h = nullptr;
      {
        std::lock_guard lock(m);
        for (auto& [code, hist] : by_status)
          if (code == status) h = hist.get();
        if (!h)
          h = by_status
                  .emplace_back(status, std::make_unique<histogram>(histogram::latency_bounds()))
                  .second.get();
      }
      h->observe(seconds);
    }
  };

  api_services s;
  std::vector<route> routes;
  std::unique_ptr<route_timings[]> timings;  // routes.size() + 1: the last for no route
  std::atomic<std::int64_t> in_flight{0};
  // Metrics: responses by status class, commands by outcome.
  std::array<std::atomic<std::uint64_t>, 6> responses{};
  std::atomic<std::uint64_t> commands_ok{0}, commands_failed{0}, commands_replayed{0};

  explicit impl(api_services services) : s(std::move(services)) {
    build_routes();
    timings = std::make_unique<route_timings[]>(routes.size() + 1);
  }

  void add(std::string method, std::string pattern, role_set roles, handler h) {
    route r{std::move(method), pattern, {}, roles, std::move(h)};
    std::string_view p(pattern);
    while (!p.empty()) {
      p.remove_prefix(1);
      auto slash = p.find('/');
      r.segments.emplace_back(p.substr(0, slash));
      p = slash == std::string_view::npos ? std::string_view{} : p.substr(slash);
    }
    routes.push_back(std::move(r));
  }

  // ---- answers ----------------------------------------------------------

  void finish(const call_ptr& c, http_response r) {
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
        r.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - c->began).count());
    auto respond = std::move(c->respond);
    c->respond = nullptr;
    if (respond) respond(std::move(r));
  }
  void fail(const call_ptr& c, const error& e) { finish(c, problem_response(e)); }
  void json_ok(const call_ptr& c, std::string body, int status = 200) {
    http_response r;
    r.status = status;
    r.body = std::move(body);
    finish(c, std::move(r));
  }
  void answer(const call_ptr& c, const result<std::string>& r) {
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
  // Whether an If-None-Match list names the tag ("*" names every one; W/ is
  // ignored: the comparison is weak).
  static bool none_match_hits(std::string_view list, std::string_view tag) {
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

  // ---- reading requests -------------------------------------------------

  template <class T>
  bool read_body(const call_ptr& c, T& out) {
    std::string_view body = c->request.body;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
    auto errors = json::parse(body, out);
    if (errors.empty()) return true;
    error e{errc::invalid_request, errors.front().field + " " + errors.front().message, {}};
    for (auto& f : errors) e.fields.push_back({std::move(f.field), std::move(f.message)});
    fail(c, e);
    return false;
  }

  std::optional<projections::page_request> page(const call_ptr& c);
  // Optional query parameters of one type each; false once a bad value has
  // been answered with a problem naming the parameter.
  bool int_param(const call_ptr& c, const char* name, std::optional<std::int64_t>& out);
  bool bool_param(const call_ptr& c, const char* name, std::optional<bool>& out);
  bool time_param(const call_ptr& c, const char* name, std::optional<timestamp>& out);

  std::optional<std::string> query(const call_ptr& c, const std::string& name) {
    auto it = c->query.find(name);
    if (it == c->query.end()) return std::nullopt;
    return it->second;
  }

  // Runs `then` once the read models include the position the client asks
  // for (Tally-Min-Position or ?min_position=), or answers 503 after 5 s.
  void after_min_position(const call_ptr& c, std::function<void()> then) {
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

  void read(const call_ptr& c, std::function<result<std::string>()> q) {
    after_min_position(c, [this, c, q = std::move(q)] {
      try {
        answer(c, q());
      } catch (const std::exception& ex) {
        spdlog::error("query {} failed: {}", c->path, ex.what());
        fail(c, make_error(errc::internal, "the query failed"));
      }
    });
  }

  // ---- commands ---------------------------------------------------------

  // `reshape` (optional) turns the answer into what this caller may see.
  using reshape_fn = std::function<std::string(const std::string&)>;
  void submit(const call_ptr& c, command cmd, int success_status, reshape_fn reshape = nullptr) {
    commands::command_request req;
    req.tenant = c->who.tenant;
    req.actor = c->who.sub;
    req.actor_name = c->who.name;
    req.actor_is_admin = c->who.has(role::admin);
    req.cmd = std::move(cmd);
    if (c->request.has_header("Idempotency-Key")) {
      std::string key(c->request.header("Idempotency-Key"));
      if (key.empty() || key.size() > max_idempotency_key)
        return fail(c, invalid_field("Idempotency-Key", "must be 1 to 255 characters"));
      req.idempotency_key = std::move(key);
    }
    if (c->request.has_header("If-Match")) {
      std::string_view v = c->request.header("If-Match");
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      if (v == "*") {
        req.if_match = commands::any_version;  // any existing version (RFC 9110 13.1.1)
      } else if (v.starts_with("W/")) {
        // A weak tag never matches in If-Match (strong comparison).
        return fail(c, make_error(errc::version_conflict,
                                  "a weak entity tag never matches If-Match; send the ETag"));
      } else {
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        std::int64_t n = -1;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || end != v.data() + v.size() || n < 0)
          return fail(c, invalid_field("If-Match", "must be an ETag such as \"3\", or *"));
        req.if_match = n;
      }
    }
    req.request_digest = sha256_hex(c->request.method + " " + c->path + "\n" + c->request.body);
    req.correlation_id = req.idempotency_key.value_or(new_uuid());
    auto self = shared_from_this();
    s.bus.submit(std::move(req), [self, c, success_status, reshape](commands::command_reply reply) {
      if (reply.failure) {
        self->commands_failed++;
        return self->fail(c, *reply.failure);
      }
      (reply.replayed ? self->commands_replayed : self->commands_ok)++;
      http_response r;
      r.status = success_status;
      r.body = reshape ? reshape(reply.body) : std::move(reply.body);
      if (reply.position) r.headers.emplace_back("Tally-Position", reply.position->token());
      r.headers.emplace_back("ETag", fmt::format("\"{}\"", reply.version.value));
      if (reply.replayed) r.headers.emplace_back("Idempotent-Replayed", "true");
      self->finish(c, std::move(r));
    });
  }

  template <class C, class Fill>
  void command_with_body(const call_ptr& c, int status, Fill fill) {
    C cmd{};
    if (!read_body(c, cmd)) return;
    fill(cmd);
    submit(c, std::move(cmd), status);
  }
  template <class C>
  void command_with_body(const call_ptr& c, int status) {
    command_with_body<C>(c, status, [](C&) {});
  }

  // ---- dispatch ---------------------------------------------------------

  void dispatch(const call_ptr& c) {
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
    // A browser's preflight (Fetch standard, CORS): answered here for an
    // allowed origin and a path that exists; others go on and get 405.
    if (c->request.method == "OPTIONS" && c->request.has_header("Access-Control-Request-Method") &&
        s.cors.allows(c->request.header("Origin"))) {
      c->preflight_methods = methods_for(segs);
      if (!c->preflight_methods.empty()) {
        http_response r;
        r.status = 204;
        r.content_type.clear();
        return finish(c, std::move(r));  // finish adds the CORS headers
      }
    }
    bool path_known = false;
    for (const auto& r : routes) {
      if (r.segments.size() != segs.size()) continue;
      std::map<std::string, std::string> params;
      bool match = true;
      for (std::size_t i = 0; i < segs.size() && match; ++i) {
        const auto& want = r.segments[i];
        if (want.size() > 2 && want.front() == '{')
          params[want.substr(1, want.size() - 2)] = segs[i];
        else
          match = want == segs[i];
      }
      if (!match) continue;
      path_known = true;
      // HEAD is GET without the body (http_server.cc leaves it out).
      if (r.method != c->request.method && !(r.method == "GET" && c->request.method == "HEAD"))
        continue;
      for (const auto& [name, value] : params)
        if (!valid_path_id(value))
          return fail(c, make_error(errc::not_found, name + " does not exist"));
      c->params = std::move(params);
      c->route = static_cast<std::size_t>(&r - routes.data());
      static const std::set<std::string_view> one_resource{
          "/v1/sessions/{id}",  "/v1/customers/{id}",
          "/v1/resources/{id}", "/v1/inventory/{item_id}",
          "/v1/invoices/{id}",  "/v1/webhooks/{id}",
          "/v1/settings"};
      c->tagged = r.method == "GET" && one_resource.contains(r.pattern);
      if (r.roles) {
        std::string_view auth = c->request.header("Authorization");
        std::string token;
        if (auth.size() > 7 && strncasecmp(auth.data(), "Bearer ", 7) == 0)
          token = std::string(auth.substr(7));
        else if (c->query.contains("access_token"))
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
      if (s.routes && pass_on(c)) return;
      try {
        r.run(*this, c);
      } catch (const std::exception& ex) {
        spdlog::error("{} {} failed: {}", c->request.method, c->path, ex.what());
        fail(c, make_error(errc::internal, "the request failed"));
      }
      return;
    }
    if (path_known) {
      // RFC 9110 15.5.6: a 405 lists the methods the resource takes.
      auto r = problem_response(
          make_error(errc::method_not_allowed, c->request.method + " is not allowed here"));
      r.headers.emplace_back("Allow", methods_for(segs));
      return finish(c, std::move(r));
    }
    fail(c, make_error(errc::not_found, "no such path: " + c->path));
  }

  void build_routes();
  std::string metrics_text();

  // The methods of the routes whose pattern matches the path ("GET, POST").
  std::string methods_for(const std::vector<std::string>& segs) const {
    std::vector<std::string> methods;
    for (const auto& r : routes) {
      if (r.segments.size() != segs.size()) continue;
      bool match = true;
      for (std::size_t i = 0; i < segs.size() && match; ++i) {
        const auto& want = r.segments[i];
        match = (want.size() > 2 && want.front() == '{') || want == segs[i];
      }
      if (match && std::find(methods.begin(), methods.end(), r.method) == methods.end()) {
        methods.push_back(r.method);
        if (r.method == "GET") methods.emplace_back("HEAD");
      }
    }
    std::string out;
    for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m;
    return out;
  }

  // A Kafka gateway passes on what it does not serve itself; true if it did.
  bool pass_on(const call_ptr& c) {
    static constexpr std::string_view local[] = {"/healthz",          "/readyz",
                                                 "/metrics",          "/v1/openapi.json",
                                                 "/v1/asyncapi.json", "/v1/admin/clock"};
    if (std::find(std::begin(local), std::end(local), c->path) != std::end(local)) return false;
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
      fail(c,
           make_error(errc::unavailable, "no gateway decides this tenant's commands yet; retry"));
      return true;
    }
    http_request forwarded = c->request;
    forwarded.headers.emplace_back("Tally-Forwarded-By", routes.self_url);
    routes.send(*owner, std::move(forwarded), relay);
    return true;
  }

  // One command per session, all queued at once (they share the deciders'
  // group commits); answers when every one has its result.
  void bulk(const call_ptr& c, bulk_request body) {
    struct state {
      std::mutex m;
      std::vector<std::string> results;
      std::size_t left;
    };
    auto st = std::make_shared<state>();
    st->results.resize(body.session_ids.size());
    st->left = body.session_ids.size();
    auto self = shared_from_this();
    const std::string key(c->request.header("Idempotency-Key"));
    for (std::size_t i = 0; i < body.session_ids.size(); ++i) {
      const auto& sid = body.session_ids[i];
      auto done = [self, c, st, i, sid](std::string result) {
        std::lock_guard lock(st->m);
        st->results[i] = std::move(result);
        if (--st->left) return;
        std::string out = R"({"results":[)";
        for (std::size_t k = 0; k < st->results.size(); ++k) out += (k ? "," : "") + st->results[k];
        self->json_ok(c, out + "]}");
      };
      auto row = [sid](int status, const std::string& problem) {
        return R"({"session_id":)" + boost::json::serialize(boost::json::string(sid)) +
               R"(,"status":)" + std::to_string(status) +
               (problem.empty() ? "" : R"(,"problem":)" + problem) + "}";
      };
      if (!valid_path_id(sid)) {
        done(
            row(404, problem_response(make_error(errc::not_found, "session does not exist")).body));
        continue;
      }
      commands::command_request req;
      req.tenant = c->who.tenant;
      req.actor = c->who.sub;
      req.actor_name = c->who.name;
      req.actor_is_admin = c->who.has(role::admin);
      const ids::session id{sid};
      switch (body.action) {
        case bulk_action::end:
          req.cmd = end_session{id};
          break;
        case bulk_action::cancel:
          req.cmd = cancel_session{id, std::string("bulk cancel")};
          break;
        case bulk_action::mark_paid:
          req.cmd = mark_paid{id, "bulk"};
          break;
      }
      if (!key.empty()) req.idempotency_key = key + ":" + sid;
      req.request_digest = sha256_hex("POST /v1/sessions/bulk\n" +
                                      std::to_string(static_cast<int>(body.action)) + sid);
      req.correlation_id = key.empty() ? new_uuid() : key;
      s.bus.submit(std::move(req), [done, row](commands::command_reply reply) {
        if (reply.failure) {
          auto p = problem_response(*reply.failure);
          done(row(p.status, p.body));
        } else {
          done(row(200, ""));
        }
      });
    }
  }
};

std::optional<projections::page_request> api::impl::page(const call_ptr& c) {
  projections::page_request p;
  if (auto l = query(c, "limit")) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    if (ec != std::errc{} || end != l->data() + l->size() || n < 1 || n > 500) {
      fail(c, invalid_field("limit", "must be an integer from 1 to 500"));
      return std::nullopt;
    }
    p.limit = static_cast<std::size_t>(n);
  }
  if (auto cur = query(c, "cursor")) p.cursor = *cur;
  return p;
}

bool api::impl::int_param(const call_ptr& c, const char* name, std::optional<std::int64_t>& out) {
  auto v = query(c, name);
  if (!v) return true;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || end != v->data() + v->size() || n < -json::max_safe_integer ||
      n > json::max_safe_integer) {
    fail(c, invalid_field(name, "must be an integer"));
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
  if (!out) {
    fail(c, invalid_field(name, "must be an RFC 3339 time"));
    return false;
  }
  return true;
}

std::string api::impl::metrics_text() {
  tally::metrics_text m;
  const auto label = &tally::metrics_text::label;
  for (std::size_t i = 0; i <= routes.size(); ++i) {
    auto& t = timings[i];
    const std::string route = i < routes.size() ? routes[i].pattern : "";
    const std::string method = i < routes.size() ? routes[i].method : "";
    std::lock_guard lock(t.m);
    for (const auto& [code, h] : t.by_status)
      m.histogram("tally_http_request_duration_seconds",
                  "From a request read to its answer, by route template (empty: no route "
                  "matched) and status code.",
                  label("method", method) + "," + label("route", route) + "," +
                      label("code", std::to_string(code)),
                  *h);
  }
  for (std::size_t i = 1; i < responses.size(); ++i)
    m.counter("tally_http_responses_total", "HTTP responses by status class.",
              label("class", std::to_string(i) + "xx"), static_cast<double>(responses[i].load()));
  for (const auto& [outcome, n] :
       {std::pair{"ok", commands_ok.load()}, std::pair{"failed", commands_failed.load()},
        std::pair{"replayed", commands_replayed.load()}})
    m.counter("tally_commands_total", "Commands by outcome.", label("outcome", outcome),
              static_cast<double>(n));
  m.gauge("tally_http_in_flight", "Requests being handled.", "",
          static_cast<double>(in_flight.load()));
  if (s.transport) {
    const auto& t = *s.transport;
    const char* open_help = "Open client connections by protocol.";
    m.gauge("tally_connections_open", open_help, label("protocol", "http"),
            static_cast<double>(t.http_connections.load()));
    m.gauge("tally_connections_open", open_help, label("protocol", "websocket"),
            static_cast<double>(t.websocket_connections.load()));
    m.gauge("tally_ws_subscribers", "Open WebSocket connections to /v1/stream.", "",
            static_cast<double>(t.websocket_connections.load()));
    m.counter("tally_ws_dropped_total",
              "WebSocket subscribers dropped (closed with 1008) for not reading their feed.", "",
              static_cast<double>(t.websocket_slow_closes.load()));
    m.counter("tally_accept_failures_total",
              "Connections that could not be accepted (e.g. out of file descriptors).", "",
              static_cast<double>(t.accept_failures.load()));
    m.counter("tally_http_framing_rejected_total",
              "Requests refused for their framing (Transfer-Encoding, Content-Length, Host).", "",
              static_cast<double>(t.rejected_framing.load()));
  }
  const auto now = s.clock.now();
  for (std::int32_t p = 0; p < s.log.partition_count(); ++p) {
    const auto part = label("partition", std::to_string(p));
    m.gauge("tally_log_last_offset",
            "The offset of the last event appended to each log partition, as its decider saw it "
            "(-1: none).",
            part, static_cast<double>(s.bus.last_offset(p)));
    m.gauge("tally_partition_decided", "1 while this process decides the partition's commands.",
            part, s.bus.decides(p) ? 1 : 0);
    if (s.projector) {
      m.gauge("tally_projection_lag_events",
              "How far the log's end is past what the read models hold, in offsets (0 when "
              "caught up).",
              part, static_cast<double>(s.projector->lag(p)));
      m.gauge("tally_projection_lag_seconds",
              "While the read models are behind: the age of the last event they applied (0 when "
              "caught up).",
              part, s.projector->lag_seconds(p, now));
    }
  }
  s.bus.write_metrics(m);
  if (s.more_metrics) s.more_metrics(m);
  return m.str();
}

void api::impl::build_routes() {
  using C = const call_ptr&;
  auto id = [](C c, const char* name) { return c->params.at(name); };

  // ---- health and documents -------------------------------------------
  add("GET", "/healthz", 0, [](impl& a, C c) { a.json_ok(c, R"({"status":"ok"})"); });
  add("GET", "/readyz", 0, [](impl& a, C c) {
    std::int64_t lag = 0;
    for (std::int32_t p = 0; a.s.projector && p < a.s.log.partition_count(); ++p)
      lag += a.s.projector->lag(p);
    if (lag > 10'000)
      return a.fail(c, make_error(errc::unavailable,
                                  fmt::format("the read models are {} events behind", lag)));
    if (auto w = a.s.bus.writable(); !w) return a.fail(c, w.err());
    if (a.s.projector && !a.s.projector->healthy())
      return a.fail(c, make_error(errc::unavailable, "the read models cannot be written"));
    a.json_ok(c, fmt::format(R"({{"status":"ready","projection_lag":{}}})", lag));
  });
  add("GET", "/metrics", 0, [](impl& a, C c) {
    http_response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = a.metrics_text();
    a.finish(c, std::move(r));
  });
  add("GET", "/v1/openapi.json", 0,
      [](impl& a, C c) { a.json_ok(c, std::string(openapi_document())); });
  add("GET", "/v1/asyncapi.json", 0,
      [](impl& a, C c) { a.json_ok(c, std::string(asyncapi_document())); });

  // ---- test clock -----------------------------------------------------
  if (s.test_clock) {
    auto clock_body = [](impl& a) {
      return json::write(clock_answer{a.s.clock.now(), a.s.test_clock->offset_ms() / 1000});
    };
    add("GET", "/v1/admin/clock", admin_only,
        [clock_body](impl& a, C c) { a.json_ok(c, clock_body(a)); });
    add("POST", "/v1/admin/clock", admin_only, [clock_body](impl& a, C c) {
      advance_clock body;
      if (!a.read_body(c, body)) return;
      if (body.advance_seconds <= 0 || body.advance_seconds > 10LL * 366 * 24 * 3600)
        return a.fail(c, invalid_field("advance_seconds",
                                       "must be a positive number of seconds, at most 10 years"));
      if (auto st = a.s.test_clock->advance(body.advance_seconds); !st) return a.fail(c, st.err());
      a.json_ok(c, clock_body(a));
    });
  }

  // ---- customers ------------------------------------------------------
  add("POST", "/v1/customers", staff_write,
      [](impl& a, C c) { a.command_with_body<register_customer>(c, 201); });
  add("PUT", "/v1/customers/{id}", staff_write, [id](impl& a, C c) {
    a.command_with_body<update_customer>(
        c, 200, [&](auto& x) { x.customer_id = ids::customer{id(c, "id")}; });
  });
  add("DELETE", "/v1/customers/{id}", admin_only, [id](impl& a, C c) {
    a.command_with_body<deactivate_customer>(
        c, 200, [&](auto& x) { x.customer_id = ids::customer{id(c, "id")}; });
  });
  add("PUT", "/v1/customers/{id}/subscription", admin_only, [id](impl& a, C c) {
    a.command_with_body<change_subscription>(
        c, 200, [&](auto& x) { x.customer_id = ids::customer{id(c, "id")}; });
  });
  add("GET", "/v1/customers", staff_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    projections::customer_filter f;
    f.q = a.query(c, "q");
    if (f.q && f.q->empty()) f.q.reset();
    if (!a.bool_param(c, "active", f.active) ||
        !a.bool_param(c, "has_active_session", f.has_active_session) ||
        !a.int_param(c, "min_sessions", f.min_sessions) ||
        !a.int_param(c, "max_sessions", f.max_sessions) ||
        !a.int_param(c, "min_paid_cents", f.min_paid_cents) ||
        !a.int_param(c, "max_paid_cents", f.max_paid_cents) ||
        !a.time_param(c, "registered_from", f.registered_from) ||
        !a.time_param(c, "registered_to", f.registered_to))
      return;
    a.read(c, [&a, c, p = *p, f] { return a.s.queries->customers(c->who.tenant, f, p); });
  });
  add("GET", "/v1/customers/{id}/stats", staff_read | role::customer, [id](impl& a, C c) {
    ids::customer cid{id(c, "id")};
    if (c->who.has(role::customer) && !c->who.any_of(staff_read) && cid.value != c->who.sub.value)
      return a.fail(c, make_error(errc::not_found, "customer does not exist"));
    a.read(c, [&a, c, cid] { return a.s.queries->customer_stats(c->who.tenant, cid); });
  });
  add("GET", "/v1/customers/{id}", staff_read | role::customer, [id](impl& a, C c) {
    ids::customer cid{id(c, "id")};
    if (c->who.has(role::customer) && !c->who.any_of(staff_read) && cid.value != c->who.sub.value)
      return a.fail(c, make_error(errc::not_found, "customer does not exist"));
    a.read(c, [&a, c, cid] { return a.s.queries->customer(c->who.tenant, cid); });
  });

  // ---- resources ------------------------------------------------------
  add("POST", "/v1/resources", admin_only,
      [](impl& a, C c) { a.command_with_body<register_resource>(c, 201); });
  add("PUT", "/v1/resources/{id}/rate", admin_only, [id](impl& a, C c) {
    a.command_with_body<change_resource_rate>(
        c, 200, [&](auto& x) { x.resource_id = ids::resource{id(c, "id")}; });
  });
  add("GET", "/v1/resources", staff_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    a.read(c, [&a, c, p = *p] { return a.s.queries->resources(c->who.tenant, p); });
  });
  add("GET", "/v1/resources/{id}", staff_read, [id](impl& a, C c) {
    a.read(c, [&a, c, rid = ids::resource{id(c, "id")}] {
      return a.s.queries->resource(c->who.tenant, rid);
    });
  });

  // ---- inventory ------------------------------------------------------
  add("PUT", "/v1/inventory/{item_id}", stock_write, [id](impl& a, C c) {
    a.command_with_body<put_item>(c, 200,
                                  [&](auto& x) { x.item_id = ids::item{id(c, "item_id")}; });
  });
  add("POST", "/v1/inventory/{item_id}/receipts", stock_write, [id](impl& a, C c) {
    a.command_with_body<receive_stock>(c, 200,
                                       [&](auto& x) { x.item_id = ids::item{id(c, "item_id")}; });
  });
  add("POST", "/v1/inventory/{item_id}/adjustments", stock_write, [id](impl& a, C c) {
    a.command_with_body<adjust_stock>(c, 200,
                                      [&](auto& x) { x.item_id = ids::item{id(c, "item_id")}; });
  });
  add("GET", "/v1/inventory", stock_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    projections::item_filter f;
    f.q = a.query(c, "q");
    if (f.q && f.q->empty()) f.q.reset();
    f.location = a.query(c, "location");
    std::optional<bool> available;
    if (!a.bool_param(c, "available", available)) return;
    f.available = available.value_or(false);
    a.read(c, [&a, c, p = *p, f] { return a.s.queries->items(c->who.tenant, f, p); });
  });
  add("GET", "/v1/inventory/{item_id}", stock_read, [id](impl& a, C c) {
    a.read(c, [&a, c, iid = ids::item{id(c, "item_id")}] {
      return a.s.queries->item(c->who.tenant, iid);
    });
  });

  // ---- sessions -------------------------------------------------------
  add("POST", "/v1/sessions", staff_write,
      [](impl& a, C c) { a.command_with_body<start_session>(c, 201); });
  add("POST", "/v1/sessions/{id}/items", staff_write, [id](impl& a, C c) {
    a.command_with_body<add_item>(c, 201,
                                  [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
  });
  add("DELETE", "/v1/sessions/{id}/items/{line_id}", staff_write, [id](impl& a, C c) {
    a.command_with_body<remove_item>(c, 200, [&](auto& x) {
      x.session_id = ids::session{id(c, "id")};
      x.line_id = ids::line{id(c, "line_id")};
    });
  });
  add("PUT", "/v1/sessions/{id}/items/{line_id}/price", staff_write, [id](impl& a, C c) {
    a.command_with_body<adjust_price>(c, 200, [&](auto& x) {
      x.session_id = ids::session{id(c, "id")};
      x.line_id = ids::line{id(c, "line_id")};
    });
  });
  add("POST", "/v1/sessions/{id}/items/{line_id}/pick", stock_write, [id](impl& a, C c) {
    a.command_with_body<pick_item>(c, 200, [&](auto& x) {
      x.session_id = ids::session{id(c, "id")};
      x.line_id = ids::line{id(c, "line_id")};
    });
  });
  add("POST", "/v1/sessions/{id}/cancel", staff_write, [id](impl& a, C c) {
    a.command_with_body<cancel_session>(c, 200,
                                        [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
  });
  add("GET", "/v1/picklist", role::admin | role::host | role::warehouse,
      [](impl& a, C c) { a.read(c, [&a, c] { return a.s.queries->picklist(c->who.tenant); }); });
  add("POST", "/v1/sessions/{id}/notes", staff_write, [id](impl& a, C c) {
    a.command_with_body<add_note>(c, 201,
                                  [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
  });
  add("POST", "/v1/sessions/{id}/end", staff_write, [id](impl& a, C c) {
    a.command_with_body<end_session>(c, 200,
                                     [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
  });
  add("POST", "/v1/sessions/{id}/payments", admin_only, [id](impl& a, C c) {
    a.command_with_body<record_payment>(c, 200,
                                        [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
  });
  add("POST", "/v1/sessions/{id}/refunds", admin_only, [id](impl& a, C c) {
    a.command_with_body<refund_payment>(c, 200,
                                        [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
  });
  add("POST", "/v1/sessions/bulk", admin_only, [](impl& a, C c) {
    bulk_request body;
    if (!a.read_body(c, body)) return;
    if (body.session_ids.empty() || body.session_ids.size() > 500)
      return a.fail(c, invalid_field("session_ids", "must list 1 to 500 sessions"));
    a.bulk(c, std::move(body));
  });
  add("GET", "/v1/sessions/active", staff_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    a.read(c, [&a, c, p = *p] { return a.s.queries->active_sessions(c->who.tenant, p); });
  });
  add("GET", "/v1/sessions", session_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    projections::session_filter f;
    f.status = a.query(c, "status");
    f.kind = a.query(c, "kind");
    f.payment_status = a.query(c, "payment_status");
    f.customer_id = a.query(c, "customer_id");
    f.q = a.query(c, "q");
    for (auto [name, field] : {std::pair{"from", &f.from}, std::pair{"to", &f.to}}) {
      if (auto v = a.query(c, name)) {
        *field = parse_rfc3339(*v);
        if (!*field) return a.fail(c, invalid_field(name, "must be an RFC 3339 time"));
      }
    }
    if (c->who.has(role::customer) && !c->who.any_of(staff_read)) f.customer_id = c->who.sub.value;
    a.read(c, [&a, c, p = *p, f] { return a.s.queries->sessions(c->who.tenant, f, p); });
  });
  auto own_session = [](impl& a, C c, const ids::session& sid) {
    if (!c->who.has(role::customer) || c->who.any_of(staff_read)) return true;
    auto owner = a.s.queries->session_customer(c->who.tenant, sid);
    if (owner && owner->value == c->who.sub.value) return true;
    a.fail(c, make_error(errc::not_found, "session " + sid.value + " does not exist"));
    return false;
  };
  add("GET", "/v1/sessions/{id}", session_read, [id, own_session](impl& a, C c) {
    ids::session sid{id(c, "id")};
    std::optional<std::int64_t> version;
    std::optional<timestamp> as_of;
    if (auto v = a.query(c, "version")) {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc{} || end != v->data() + v->size() || n < 1)
        return a.fail(c, invalid_field("version", "must be a positive integer"));
      version = n;
    }
    if (auto v = a.query(c, "as_of")) {
      as_of = parse_rfc3339(*v);
      if (!as_of) return a.fail(c, invalid_field("as_of", "must be an RFC 3339 time"));
    }
    a.after_min_position(c, [&a, c, sid, version, as_of, own_session] {
      if (!own_session(a, c, sid)) return;
      const bool private_notes = !c->who.has(role::customer) || c->who.any_of(staff_read);
      if (version || as_of)
        return a.answer(c,
                        a.s.queries->session_at(c->who.tenant, sid, version, as_of, private_notes));
      a.answer(c, a.s.queries->session(c->who.tenant, sid, private_notes));
    });
  });
  add("GET", "/v1/sessions/{id}/cost", session_read, [id, own_session](impl& a, C c) {
    ids::session sid{id(c, "id")};
    a.after_min_position(c, [&a, c, sid, own_session] {
      if (!own_session(a, c, sid)) return;
      a.answer(c, a.s.queries->session_cost(c->who.tenant, sid));
    });
  });
  add("GET", "/v1/sessions/{id}/events", audit_read, [id](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    a.read(c, [&a, c, p = *p, sid = ids::session{id(c, "id")}] {
      return a.s.queries->session_events(c->who.tenant, sid, p);
    });
  });

  // ---- appointments ---------------------------------------------------
  add("POST", "/v1/bookings", staff_write | role::customer | role::public_, [](impl& a, C c) {
    request_booking cmd{};
    if (!a.read_body(c, cmd)) return;
    const bool staff = c->who.any_of(staff_write);
    if (!staff && c->who.has(role::customer)) {
      if (cmd.customer)
        return a.fail(c, invalid_field("customer", "a customer books for themself: leave it out"));
      if (cmd.customer_id && cmd.customer_id->value != c->who.sub.value)
        return a.fail(c, make_error(errc::forbidden, "a customer books for themself only"));
      cmd.customer_id = ids::customer{c->who.sub.value};
      cmd.requested_via = "customer";
    } else if (!staff) {
      if (cmd.customer_id)
        return a.fail(
            c, invalid_field("customer_id", "the public books with customer: {name, email}"));
      cmd.requested_via = "public";
      return a.submit(c, std::move(cmd), 201, public_booking_answer);
    }
    a.submit(c, std::move(cmd), 201);
  });
  auto session_command = [id](auto tag, int status) {
    using T = typename decltype(tag)::type;
    return [id, status](impl& a, C c) {
      a.command_with_body<T>(c, status, [&](auto& x) { x.session_id = ids::session{id(c, "id")}; });
    };
  };
  add("POST", "/v1/sessions/{id}/quote", admin_only,
      session_command(std::type_identity<quote_session>{}, 200));
  add("POST", "/v1/sessions/{id}/book", admin_only,
      session_command(std::type_identity<book_session>{}, 200));
  add("POST", "/v1/sessions/{id}/reschedule", admin_only,
      session_command(std::type_identity<reschedule_session>{}, 200));
  add("POST", "/v1/sessions/{id}/start", staff_write,
      session_command(std::type_identity<start_appointment>{}, 200));
  add("POST", "/v1/sessions/{id}/no-show", staff_write,
      session_command(std::type_identity<mark_no_show>{}, 200));
  add("POST", "/v1/sessions/{id}/attendance", staff_write,
      session_command(std::type_identity<record_attendance>{}, 201));
  add("POST", "/v1/sessions/{id}/resolve", admin_only,
      session_command(std::type_identity<resolve_session>{}, 200));
  add("POST", "/v1/sessions/{id}/invoice", admin_only,
      session_command(std::type_identity<invoice_session>{}, 201));
  add("POST", "/v1/invoices/{id}/credit-note", admin_only, [id](impl& a, C c) {
    a.command_with_body<issue_credit_note>(
        c, 201, [&](auto& x) { x.invoice_id = ids::invoice{id(c, "id")}; });
  });

  // ---- invoices -------------------------------------------------------
  add("POST", "/v1/invoices", admin_only,
      [](impl& a, C c) { a.command_with_body<issue_invoice>(c, 201); });
  add("POST", "/v1/invoices/{id}/payments", admin_only, [id](impl& a, C c) {
    a.command_with_body<record_payment>(c, 200,
                                        [&](auto& x) { x.invoice_id = ids::invoice{id(c, "id")}; });
  });
  add("GET", "/v1/invoices", invoice_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    std::optional<ids::customer> only;
    if (c->who.has(role::customer) && !c->who.any_of(staff_read))
      only = ids::customer{c->who.sub.value};
    a.read(c, [&a, c, p = *p, only] { return a.s.queries->invoices(c->who.tenant, p, only); });
  });
  add("GET", "/v1/invoices/{id}", invoice_read, [id](impl& a, C c) {
    ids::invoice iid{id(c, "id")};
    a.after_min_position(c, [&a, c, iid] {
      if (c->who.has(role::customer) && !c->who.any_of(staff_read)) {
        auto owner = a.s.queries->invoice_customer(c->who.tenant, iid);
        if (!owner || owner->value != c->who.sub.value)
          return a.fail(c, make_error(errc::not_found, "invoice " + iid.value + " does not exist"));
      }
      a.answer(c, a.s.queries->invoice(c->who.tenant, iid));
    });
  });

  // ---- analytics --------------------------------------------------------
  // from and to: RFC 3339 times or dates, checked against the tenant's zone
  // by the query.
  add("GET", "/v1/analytics/summary", audit_read, [](impl& a, C c) {
    a.read(c, [&a, c, from = a.query(c, "from"), to = a.query(c, "to")] {
      return a.s.queries->analytics(c->who.tenant, from, to);
    });
  });
  add("GET", "/v1/analytics/picking", audit_read, [](impl& a, C c) {
    a.read(c, [&a, c, from = a.query(c, "from"), to = a.query(c, "to")] {
      return a.s.queries->picking(c->who.tenant, from, to);
    });
  });

  // ---- real time --------------------------------------------------------
  add("GET", "/v1/stream", 0, [](impl& a, C c) {
    a.fail(c, invalid_field("Upgrade", "GET /v1/stream is a WebSocket: send Upgrade: websocket"));
  });

  // ---- webhooks ---------------------------------------------------------
  add("POST", "/v1/webhooks", admin_only, [](impl& a, C c) {
    register_webhook cmd{};
    if (!a.read_body(c, cmd)) return;
    if (auto s = a.s.webhook_policy.check_url(cmd.url); !s) return a.fail(c, s.err());
    // The secret is derived, never stored: shown in the answer (and in a
    // replay of it) only.
    const std::string key = a.s.webhook_key;
    const ids::tenant tenant = c->who.tenant;
    a.submit(c, std::move(cmd), 201, [key, tenant](const std::string& body) {
      boost::system::error_code ec;
      auto v = boost::json::parse(body, ec);
      if (ec || !v.is_object() || !v.as_object().contains("webhook_id")) return body;
      auto& o = v.as_object();
      const ids::webhook id{std::string(o["webhook_id"].as_string())};
      o["secret"] = webhooks::secret_for(key, tenant, id);
      return boost::json::serialize(v);
    });
  });
  add("GET", "/v1/webhooks", admin_only, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    a.read(c, [&a, c, p = *p] { return a.s.queries->webhooks(c->who.tenant, p); });
  });
  add("GET", "/v1/webhooks/{id}", admin_only, [id](impl& a, C c) {
    a.read(c, [&a, c, wid = ids::webhook{id(c, "id")}] {
      return a.s.queries->webhook(c->who.tenant, wid);
    });
  });
  add("DELETE", "/v1/webhooks/{id}", admin_only,
      [id](impl& a, C c) { a.submit(c, remove_webhook{ids::webhook{id(c, "id")}}, 200); });
  add("GET", "/v1/webhooks/{id}/deliveries", admin_only, [id](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    a.read(c, [&a, c, p = *p, wid = ids::webhook{id(c, "id")}]() -> result<std::string> {
      if (auto w = a.s.queries->webhook(c->who.tenant, wid); !w) return w;
      if (!a.s.webhooks)
        return make_error(errc::unavailable,
                          "this process does not dispatch webhooks (docs/operations.md, "
                          "\"Webhooks\")");
      return a.s.webhooks->deliveries(c->who.tenant, wid, p);
    });
  });

  // ---- settings and the event stream ----------------------------------
  add("PUT", "/v1/settings", admin_only,
      [](impl& a, C c) { a.command_with_body<change_settings>(c, 200); });
  add("GET", "/v1/settings", admin_only,
      [](impl& a, C c) { a.read(c, [&a, c] { return a.s.queries->settings(c->who.tenant); }); });
  add("GET", "/v1/events", audit_read, [](impl& a, C c) {
    std::optional<ports::position> after;
    if (auto v = a.query(c, "after")) {
      after = ports::position::parse(*v);
      if (!after)
        return a.fail(c, invalid_field("after", "is not a position token this server gave"));
    }
    std::size_t limit = 500;
    if (auto l = a.query(c, "limit")) {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
      if (ec != std::errc{} || end != l->data() + l->size() || n < 1 || n > 5000)
        return a.fail(c, invalid_field("limit", "must be an integer from 1 to 5000"));
      limit = static_cast<std::size_t>(n);
    }
    a.after_min_position(c, [&a, c, after, limit] {
      auto r = a.s.queries->tenant_events(c->who.tenant, after, limit);
      if (!r) return a.fail(c, r.err());
      http_response resp;
      resp.content_type = "application/x-ndjson";
      resp.body = std::move(*r);
      a.finish(c, std::move(resp));
    });
  });
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
  std::string token;
  std::string_view auth = request.header("Authorization");
  if (auth.size() > 7 && strncasecmp(auth.data(), "Bearer ", 7) == 0)
    token = std::string(auth.substr(7));
  for (auto p : url->params())
    if (p.key == "access_token") token = p.value;
  return impl_->s.verifier.verify(token);
}

}  // namespace tally::gateway
