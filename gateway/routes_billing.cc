// Invoices, analytics, the stream, webhooks, settings and the event stream.

#include "gateway/api_impl.h"
#include "gateway/openapi.h"
#include "webhooks/signing.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace tally::gateway {

void api::impl::add_billing_routes() {
  using C = const call_ptr&;
  auto id = [](C c, const char* name) { return c->params.at(name); };

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
    projections::invoice_filter f;
    if (!a.enum_param<payment_status>(c, "payment_status", f.payment_status) ||
        !a.bool_param(c, "standalone", f.standalone) || !a.time_param(c, "from", f.from) ||
        !a.time_param(c, "to", f.to))
      return;
    if (auto v = a.query(c, "customer_id")) f.customer_id = ids::customer{*v};
    if (auto v = a.query(c, "session_id")) f.session_id = ids::session{*v};
    if (customer_only(c)) {
      // The customer role lists its own: another customer's id finds nothing.
      if (f.customer_id && f.customer_id->value != c->who.sub.value) f.session_id = ids::session{};
      f.customer_id = ids::customer{c->who.sub.value};
    }
    if (c->who.host_scoped()) f.scoped_host = c->who.sub;
    a.read(c, [&a, c, p = *p, f] { return a.s.queries->invoices(c->who.tenant, f, p); });
  });
  add("GET", "/v1/invoices/{id}", invoice_read, [id](impl& a, C c) {
    ids::invoice iid{id(c, "id")};
    a.after_min_position(c, [&a, c, iid] {
      if (customer_only(c)) {
        const auto owner = a.s.queries->invoice_customer(c->who.tenant, iid);
        if (!a.may_see(c, owner ? std::optional(owner->value) : std::nullopt,
                       "invoice " + iid.value))
          return;
      }
      if (c->who.host_scoped()) {
        // Another host's appointment's invoice does not exist for a host.
        if (const auto sid = a.s.queries->invoice_session(c->who.tenant, iid)) {
          const auto o = a.s.queries->session_owner_of(c->who.tenant, *sid);
          if (o && o->kind == session_kind::appointment && o->host_id != c->who.sub)
            return a.fail(c,
                          make_error(errc::not_found, "invoice " + iid.value + " does not exist"));
        }
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
    // Who asks first, as on every other path: 401 without a good token.
    std::string token = bearer_token(c->request);
    if (token.empty()) token = a.query(c, "access_token").value_or("");
    if (auto who = a.s.verifier.verify(token); !who) return a.fail(c, who.err());
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
    std::optional<std::int64_t> given;
    if (!a.int_param(c, "limit", given, 1, 5000)) return;
    const auto limit = static_cast<std::size_t>(given.value_or(500));
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

}  // namespace tally::gateway
