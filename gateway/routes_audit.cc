// The auditors' routes (docs/audit.md): the tenant's hash chain, checked.

#include "gateway/api_impl.h"
#include "projections/audit.h"

#include <boost/json.hpp>

namespace tally::gateway {

void api::impl::add_audit_routes() {
  using C = const call_ptr&;
  // Walks the tenant's events in the log itself (not the read models): what
  // was stored is what is checked.
  add("GET", "/v1/audit/verify", audit_read, [](impl& a, C c) {
    a.read(c, [&a, c]() -> result<std::string> {
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
