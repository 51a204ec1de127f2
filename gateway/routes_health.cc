// Health, readiness, metrics, the API documents and the test clock.

#include "gateway/api_impl.h"

#include "domain/limits.h"
#include "gateway/console.h"
#include "gateway/openapi.h"
#include "webhooks/signing.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace tally::gateway {

namespace {

struct clock_answer {
  timestamp now;
  std::int64_t offset_seconds = 0;
};
BOOST_DESCRIBE_STRUCT(clock_answer, (), (now, offset_seconds))

struct advance_clock {
  std::int64_t advance_seconds = 0;
};
BOOST_DESCRIBE_STRUCT(advance_clock, (), (advance_seconds))

}  // namespace

void api::impl::add_health_routes() {
  using C = const call_ptr&;

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
      // The clock stays where client-given times may lie (limits.h).
      if (a.s.clock.now() + std::chrono::seconds(body.advance_seconds) >= latest_client_time)
        return a.fail(c, invalid_field("advance_seconds", "would move the clock past 2100-01-01"));
      if (auto st = a.s.test_clock->advance(body.advance_seconds); !st) return a.fail(c, st.err());
      a.json_ok(c, clock_body(a));
    });
  }

  // ---- the web console (docs/console.md): static files, compiled in ----
  add("GET", "/console", 0, [](impl& a, C c) {
    http_response r;
    r.status = 301;
    r.content_type.clear();
    r.headers.emplace_back("Location", "/console/");
    a.finish(c, std::move(r));
  });
  auto serve_file = [](impl& a, C c, std::string_view name) {
    for (const auto& f : console_files()) {
      if (f.name != name) continue;
      http_response r;
      r.content_type = std::string(f.content_type);
      r.body = std::string(f.body);
      // Everything from this origin only; no inline script; not framed.
      r.headers.emplace_back("Content-Security-Policy",
                             "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' "
                             "data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      r.headers.emplace_back("Cache-Control", "no-cache");
      return a.finish(c, std::move(r));
    }
    a.fail(c, make_error(errc::not_found, "no such file in the console: " + std::string(name)));
  };
  add("GET", "/console/", 0, [serve_file](impl& a, C c) { serve_file(a, c, "index.html"); });
  add("GET", "/console/{file}", 0,
      [serve_file](impl& a, C c) { serve_file(a, c, c->params.at("file")); });
}

}  // namespace tally::gateway
