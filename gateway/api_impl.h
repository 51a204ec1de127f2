#pragma once

// The inside of the API (api.h), shared by api.cc (dispatch, answers,
// commands) and the routes of each resource (routes_*.cc). No Beast here.

#include "base/json.h"
#include "gateway/api.h"
#include "gateway/problem.h"
#include "gateway/router.h"

#include <boost/describe.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::gateway {

inline constexpr role_set staff_read = role::admin | role::host | role::auditor;
inline constexpr role_set staff_write = role::admin | role::host;
inline constexpr role_set admin_only = static_cast<role_set>(role::admin);
inline constexpr role_set stock_write = role::admin | role::warehouse;
inline constexpr role_set stock_read = role::admin | role::host | role::warehouse | role::auditor;
inline constexpr role_set audit_read = role::admin | role::auditor;
inline constexpr role_set session_read = staff_read | role::customer;
inline constexpr role_set invoice_read = staff_read | role::customer;

// A decimal integer, all of `s` and nothing else; nullopt otherwise.
std::optional<std::int64_t> parse_int(std::string_view s);

// The bearer token of the Authorization header ("" without one).
std::string bearer_token(const http_request& request);

enum class bulk_action { end, mark_paid, cancel };
BOOST_DESCRIBE_ENUM(bulk_action, end, mark_paid, cancel)

struct bulk_request {
  std::vector<std::string> session_ids;
  bulk_action action = bulk_action::end;
};
BOOST_DESCRIBE_STRUCT(bulk_request, (), (session_ids, action))

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
    role_set roles = 0;  // 0: no token needed
    handler run;
    bool tagged = false;  // a GET of one resource: ETag and 304
    // The query parameters it takes (a GET also takes min_position); any
    // other is refused with 400 naming it.
    std::vector<std::string> params;
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
  router paths;                              // path templates to indexes in `routes`
  std::unique_ptr<route_timings[]> timings;  // routes.size() + 1: the last for no route
  std::atomic<std::int64_t> in_flight{0};
  // Metrics: responses by status class, commands by outcome.
  std::array<std::atomic<std::uint64_t>, 6> responses{};
  std::atomic<std::uint64_t> commands_ok{0}, commands_failed{0}, commands_replayed{0};

  explicit impl(api_services services) : s(std::move(services)) {
    add_health_routes();
    add_catalog_routes();
    add_session_routes();
    add_billing_routes();
    add_audit_routes();
    timings = std::make_unique<route_timings[]>(routes.size() + 1);
  }

  void add(std::string method, std::string pattern, role_set roles, handler h);

  // ---- answers ----------------------------------------------------------

  void finish(const call_ptr& c, http_response r);
  void fail(const call_ptr& c, const error& e) { finish(c, problem_response(e)); }
  void json_ok(const call_ptr& c, std::string body, int status = 200) {
    http_response r;
    r.status = status;
    r.body = std::move(body);
    finish(c, std::move(r));
  }
  void answer(const call_ptr& c, const result<std::string>& r);
  // Whether an If-None-Match list names the tag ("*" names every one; W/ is
  // ignored: the comparison is weak).
  static bool none_match_hits(std::string_view list, std::string_view tag);

  // ---- reading requests -------------------------------------------------

  template <class T>
  bool read_body(const call_ptr& c, T& out) {
    std::string_view body = c->request.body;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
      body = "{}";
    else if (!json_content_type(c))
      return false;
    auto errors = json::parse(body, out);
    if (errors.empty()) return true;
    error e{errc::invalid_request, errors.front().field + " " + errors.front().message, {}};
    for (auto& f : errors) e.fields.push_back({std::move(f.field), std::move(f.message)});
    fail(c, e);
    return false;
  }

  // Whether the body's Content-Type is JSON in UTF-8 (application/json or
  // application/*+json, charset utf-8 if named; absent is taken as JSON);
  // false once a 415 has been answered.
  bool json_content_type(const call_ptr& c);
  // The Idempotency-Key header: nullopt without one; false once a bad one
  // (not 1 to 255 visible ASCII characters) has been answered.
  bool idempotency_key(const call_ptr& c, std::optional<std::string>& out);

  // Every tenant stopped here, by what stopped ("read_models", "commands").
  [[nodiscard]] std::vector<std::pair<std::string, ports::tenant_stop>> stopped_tenants() const;

  std::optional<projections::page_request> page(const call_ptr& c);
  // Optional query parameters of one type each; false once a bad value has
  // been answered with a problem naming the parameter.
  // Integers are checked against [min, max], by default JSON's safe range.
  bool int_param(const call_ptr& c, const char* name, std::optional<std::int64_t>& out,
                 std::int64_t min = -json::max_safe_integer,
                 std::int64_t max = json::max_safe_integer);
  bool bool_param(const call_ptr& c, const char* name, std::optional<bool>& out);
  bool time_param(const call_ptr& c, const char* name, std::optional<timestamp>& out);
  // One of a described enum's names; false once another has been answered.
  template <class E>
  bool enum_param(const call_ptr& c, const char* name, std::optional<std::string>& out) {
    auto v = query(c, name);
    if (!v) return true;
    std::string names;
    bool known = false;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
      names += (names.empty() ? "" : ", ") + std::string(d.name);
      known = known || *v == d.name;
    });
    if (!known) {
      fail(c, invalid_field(name, "must be one of " + names));
      return false;
    }
    out = v;
    return true;
  }

  std::optional<std::string> query(const call_ptr& c, const std::string& name) {
    auto it = c->query.find(name);
    if (it == c->query.end()) return std::nullopt;
    return it->second;
  }

  // Runs `then` once the read models include the position the client asks
  // for (Tally-Min-Position or ?min_position=), or answers 503 after 5 s.
  void after_min_position(const call_ptr& c, std::function<void()> then);

  // A query of the read models: refused (503) for a tenant whose read
  // models are stopped (docs/operations.md), else answered once they hold
  // the position the client asks for.
  void read(const call_ptr& c, std::function<result<std::string>()> q);
  // A query of the log itself (the chain check), which serves a stopped
  // tenant too: it is how an operator finds what stopped it.
  void read_log(const call_ptr& c, std::function<result<std::string>()> q);

  // ---- commands ---------------------------------------------------------

  // `reshape` (optional) turns the answer into what this caller may see.
  using reshape_fn = std::function<std::string(const std::string&)>;
  void submit(const call_ptr& c, command cmd, int success_status, reshape_fn reshape = nullptr);
  // The same for a request already holding its command (or bulk items):
  // the caller, the Idempotency-Key, If-Match and the digest are added here.
  void submit_request(const call_ptr& c, commands::command_request req, int success_status,
                      reshape_fn reshape = nullptr);

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

  void dispatch(const call_ptr& c);

  std::string metrics_text();

  // ---- who may see what ---------------------------------------------------

  // A customer (without a staff role) sees only what is theirs.
  static bool customer_only(const call_ptr& c) {
    return c->who.has(role::customer) && !c->who.any_of(staff_read);
  }
  // Whether the caller may see a thing that belongs to `owner`; if not, it
  // has been answered 404 "<what> does not exist" (never 403: a customer
  // does not learn what exists).
  bool may_see(const call_ptr& c, const std::optional<std::string>& owner, const std::string& what);
  // Whether the caller may see the session: a customer their own, a
  // host-scoped host every session but other hosts' appointments; if not,
  // answered 404.
  bool may_see_session(const call_ptr& c, const ids::session& id);

  // ---- the routes, by resource (routes_*.cc) ------------------------------

  void add_health_routes();   // health, documents, metrics, the test clock
  void add_catalog_routes();  // customers, resources, inventory
  void add_session_routes();  // sessions, appointments, the pick list
  void add_billing_routes();  // invoices, analytics, webhooks, settings, events
  void add_audit_routes();    // the hash chain

  // A Kafka gateway passes on what it does not serve itself; true if it did.
  bool pass_on(const call_ptr& c);

  // One command per session, all queued at once (they share the deciders'
  // group commits); answers when every one has its result.
  void bulk(const call_ptr& c, bulk_request body);
};

}  // namespace tally::gateway
