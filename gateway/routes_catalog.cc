// Customers, resources and inventory.

#include "domain/countries.h"
#include "gateway/api_impl.h"
#include "gateway/openapi.h"
#include "webhooks/signing.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace tally::gateway {

void api::impl::add_catalog_routes() {
  using C = const call_ptr&;
  auto id = [](C c, const char* name) { return c->params.at(name); };

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
    f.city = a.query(c, "city");
    f.country = a.query(c, "country");
    if (f.country && !iso_country(*f.country)) {
      a.fail(c,
             invalid_field("country", "must be an ISO 3166-1 alpha-2 code in capitals (\"DE\")"));
      return;
    }
    if (!a.bool_param(c, "active", f.active) ||
        !a.bool_param(c, "has_active_session", f.has_active_session) ||
        !a.int_param(c, "min_sessions", f.min_sessions) ||
        !a.int_param(c, "max_sessions", f.max_sessions) ||
        !a.int_param(c, "min_paid_cents", f.min_paid_cents) ||
        !a.int_param(c, "max_paid_cents", f.max_paid_cents) ||
        !a.time_param(c, "registered_from", f.registered_from) ||
        !a.time_param(c, "registered_to", f.registered_to))
      return;
    if (c->who.host_scoped()) f.scoped_host = c->who.sub;
    a.read(c, [&a, c, p = *p, f] { return a.s.queries->customers(c->who.tenant, f, p); });
  });
  add("GET", "/v1/customers/{id}/stats", staff_read | role::customer, [id](impl& a, C c) {
    ids::customer cid{id(c, "id")};
    if (!a.may_see(c, cid.value, "customer")) return;
    std::optional<ids::user> scoped;
    if (c->who.host_scoped()) scoped = c->who.sub;
    a.read(c, [&a, c, cid, scoped] {
      return a.s.queries->customer_stats(c->who.tenant, cid, scoped);
    });
  });
  add("GET", "/v1/customers/{id}", staff_read | role::customer, [id](impl& a, C c) {
    ids::customer cid{id(c, "id")};
    if (!a.may_see(c, cid.value, "customer")) return;
    std::optional<ids::user> scoped;
    if (c->who.host_scoped()) scoped = c->who.sub;
    a.read(c, [&a, c, cid, scoped] { return a.s.queries->customer(c->who.tenant, cid, scoped); });
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
}

}  // namespace tally::gateway
