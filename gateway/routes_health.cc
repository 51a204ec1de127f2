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
    // Tenants stopped at a record that cannot be read are named, but the
    // process stays ready: every other tenant is served (docs/operations.md).
    boost::json::object o;
    boost::json::array stopped;
    for (const auto& [reader, stop] : a.stopped_tenants()) {
      boost::json::object t;
      t["tenant"] =
          stop.tenant.empty() ? boost::json::value(nullptr) : boost::json::value(stop.tenant);
      t["position"] = stop.pos.token();
      t["reason"] = stop.reason;
      t["stopped"] = reader;
      stopped.push_back(std::move(t));
    }
    o["status"] = stopped.empty() ? "ready" : "degraded";
    o["projection_lag"] = lag;
    o["stopped_tenants"] = std::move(stopped);
    a.json_ok(c, boost::json::serialize(o));
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
  for (const auto& [reader, stop] : stopped_tenants())
    m.gauge("tally_tenant_stopped",
            "1 for each tenant stopped at a record of the log that cannot be read (tenant \"\": "
            "one whose tenant cannot be told): what stopped (read_models, commands), where.",
            label("tenant", stop.tenant) + "," + label("stopped", reader) + "," +
                label("position", stop.pos.token()),
            1);
  s.bus.write_metrics(m);
  if (s.more_metrics) s.more_metrics(m);
  return m.str();
}

std::vector<std::pair<std::string, ports::tenant_stop>> api::impl::stopped_tenants() const {
  std::vector<std::pair<std::string, ports::tenant_stop>> out;
  if (s.projector)
    for (auto& stop : s.projector->stops().all()) out.emplace_back("read_models", std::move(stop));
  for (auto& stop : s.bus.stopped_tenants()) out.emplace_back("commands", std::move(stop));
  return out;
}

}  // namespace tally::gateway
