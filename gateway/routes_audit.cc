// The auditors' routes (docs/audit.md): the tenant's hash chain, checked.

#include "base/jcs.h"
#include "gateway/api_impl.h"
#include "projections/audit.h"

#include <boost/json.hpp>

namespace tally::gateway {

namespace {
constexpr role_set any_role =
    role::admin | role::host | role::warehouse | role::auditor | role::customer | role::public_;
}  // namespace

void api::impl::add_audit_routes() {
  using C = const call_ptr&;
  auto no_key = [](impl& a, C c) {
    a.fail(c, make_error(errc::unavailable, "this process has no audit key"));
  };
  // The public half of the key that signs heads, as a JWK (RFC 8037).
  add("GET", "/v1/audit/key", any_role, [no_key](impl& a, C c) {
    if (!a.s.audit_key) return no_key(a, c);
    a.json_ok(c, a.s.audit_key->jwk());
  });
  // The tenant's chain head, signed: an auditor who keeps it can later prove
  // that the history before it did not change (docs/audit.md).
  add("GET", "/v1/audit/head", audit_read, [no_key](impl& a, C c) {
    if (!a.s.audit_key) return no_key(a, c);
    a.read(c, [&a, c]() -> result<std::string> {
      auto head = a.s.queries->chain_head(c->who.tenant);
      if (!head) return head;
      auto o = boost::json::parse(*head).as_object();
      o["tenant"] = c->who.tenant.value;
      o["signed_at"] = format_rfc3339(a.s.clock.now());
      o["kid"] = a.s.audit_key->kid();
      o["signature"] = base64url(a.s.audit_key->sign(canonical_json(o)));
      return boost::json::serialize(o);
    });
  });
  // Walks the tenant's events in the log itself (not the read models): what
  // was stored is what is checked.
  add("GET", "/v1/audit/verify", audit_read, [](impl& a, C c) {
    a.read_log(c, [&a, c]() -> result<std::string> {
      auto reports = projections::verify_chains(a.s.log, c->who.tenant);
      if (!reports) return std::move(reports).take_error();
      const auto& r = reports->front();
      boost::json::object o;
      o["ok"] = r.ok;
      o["events"] = r.events;
      o["head"] = r.head;
      if (!r.ok) {
        o["position"] = r.position;
        o["reason"] = r.reason;
      }
      return boost::json::serialize(o);
    });
  });
}

}  // namespace tally::gateway
