// Sessions of every kind, appointments, the pick list.

#include "gateway/api_impl.h"
#include "gateway/openapi.h"
#include "webhooks/signing.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace tally::gateway {

namespace {

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

// A session as the customer role sees it: without staff's private notes.
std::string without_private_notes(const std::string& session_json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(session_json, ec);
  if (ec || !v.is_object()) return session_json;
  if (auto* notes = v.as_object().if_contains("notes"); notes && notes->is_array()) {
    auto& list = notes->as_array();
    boost::json::array kept;
    for (auto& n : list)
      if (!n.is_object() || !n.as_object().contains("private") ||
          !n.as_object().at("private").is_bool() || !n.as_object().at("private").as_bool())
        kept.push_back(n);
    list = std::move(kept);
  }
  return boost::json::serialize(v);
}

}  // namespace

void api::impl::add_session_routes() {
  using C = const call_ptr&;
  auto id = [](C c, const char* name) { return c->params.at(name); };

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
  add("GET", "/v1/picklist", role::admin | role::host | role::warehouse, [](impl& a, C c) {
    const auto include = a.query(c, "include");
    if (include && *include != "picked")
      return a.fail(c, invalid_field("include", "must be picked (fully picked lines too)"));
    a.read(c, [&a, c, picked = include.has_value()] {
      return a.s.queries->picklist(c->who.tenant, picked);
    });
  });
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
    std::optional<ids::user> scoped;
    if (c->who.host_scoped()) scoped = c->who.sub;
    a.read(c, [&a, c, p = *p, scoped] {
      return a.s.queries->active_sessions(c->who.tenant, p, scoped);
    });
  });
  add("GET", "/v1/sessions", session_read, [](impl& a, C c) {
    auto p = a.page(c);
    if (!p) return;
    projections::session_filter f;
    std::optional<std::string> order;
    if (!a.enum_param<session_status>(c, "status", f.status) ||
        !a.enum_param<session_kind>(c, "kind", f.kind) ||
        !a.enum_param<payment_status>(c, "payment_status", f.payment_status) ||
        !a.enum_param<session_outcome>(c, "outcome", f.outcome) ||
        !a.bool_param(c, "invoiced", f.invoiced) || !a.time_param(c, "from", f.from) ||
        !a.time_param(c, "to", f.to))
      return;
    if (auto o = a.query(c, "order")) {
      if (*o != "asc" && *o != "desc")
        return a.fail(c, invalid_field("order", "must be asc or desc"));
      p->reverse = *o == "asc";
    }
    f.customer_id = a.query(c, "customer_id");
    f.host_id = a.query(c, "host_id");
    f.q = a.query(c, "q");
    if (f.q && f.q->empty()) f.q.reset();
    if (customer_only(c)) f.customer_id = c->who.sub.value;
    if (c->who.host_scoped()) f.scoped_host = c->who.sub;
    a.read(c, [&a, c, p = *p, f] { return a.s.queries->sessions(c->who.tenant, f, p); });
  });
  add("GET", "/v1/sessions/{id}", session_read, [id](impl& a, C c) {
    ids::session sid{id(c, "id")};
    std::optional<std::int64_t> version;
    std::optional<timestamp> as_of;
    if (!a.int_param(c, "version", version, 1) || !a.time_param(c, "as_of", as_of)) return;
    // Time travel is for admins and auditors (API.md, the roles table).
    if ((version || as_of) && !c->who.any_of(audit_read))
      return a.fail(c, make_error(errc::forbidden,
                                  "time travel (version, as_of) is for admins and auditors"));
    a.after_min_position(c, [&a, c, sid, version, as_of] {
      if (!a.may_see_session(c, sid)) return;
      const bool private_notes = !customer_only(c);
      if (version || as_of)
        return a.answer(c,
                        a.s.queries->session_at(c->who.tenant, sid, version, as_of, private_notes));
      a.answer(c, a.s.queries->session(c->who.tenant, sid, private_notes));
    });
  });
  add("GET", "/v1/sessions/{id}/cost", session_read, [id](impl& a, C c) {
    ids::session sid{id(c, "id")};
    a.after_min_position(c, [&a, c, sid] {
      if (!a.may_see_session(c, sid)) return;
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
  add("PATCH", "/v1/sessions/{id}", staff_write,
      session_command(std::type_identity<change_session_details>{}, 200));
  add("POST", "/v1/sessions/{id}/feedback", static_cast<role_set>(role::customer),
      [id](impl& a, C c) {
        give_feedback cmd{};
        if (!a.read_body(c, cmd)) return;
        cmd.session_id = ids::session{id(c, "id")};
        a.submit(c, std::move(cmd), 201, without_private_notes);
      });
  add("POST", "/v1/invoices/{id}/credit-note", admin_only, [id](impl& a, C c) {
    a.command_with_body<issue_credit_note>(
        c, 201, [&](auto& x) { x.invoice_id = ids::invoice{id(c, "id")}; });
  });
}

}  // namespace tally::gateway
