#pragma once

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/ids.h"
#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"

#include <optional>
#include <string>

namespace tally::projections {

struct page_request {
  std::size_t limit = 50;
  std::string cursor;    // opaque, from a previous page's next_cursor
  bool reverse = false;  // oldest first (the lists are kept newest first)
  std::string stop_at;   // set by a query: the scan ends past this key (a range's far end)
};

struct session_filter {
  std::optional<std::string> status;
  std::optional<std::string> kind;
  std::optional<std::string> payment_status;
  std::optional<std::string> outcome;
  std::optional<std::string> customer_id;
  std::optional<std::string> host_id;
  std::optional<bool> invoiced;
  std::optional<timestamp> from;
  std::optional<timestamp> to;
  std::optional<std::string> q;
  // A host-scoped caller (DOMAIN.md): every metered and shopping session,
  // and only the appointments this user hosts.
  std::optional<ids::user> scoped_host;
};

// GET /v1/invoices (API.md, Second wave).
struct invoice_filter {
  std::optional<std::string> payment_status;  // invoices only: a credit note has none
  std::optional<ids::customer> customer_id;   // also: the customer role's own
  std::optional<ids::session> session_id;
  std::optional<bool> standalone;     // true: no session; false: a session's
  std::optional<timestamp> from, to;  // half-open, over issued_at
  // A host-scoped caller does not see the invoices of other hosts' appointments.
  std::optional<ids::user> scoped_host;
};

struct customer_filter {
  std::optional<std::string> q;  // substring of name, e-mail or phone, any case
  std::optional<bool> active;
  std::optional<bool> has_active_session;
  std::optional<std::int64_t> min_sessions, max_sessions;      // inclusive
  std::optional<std::int64_t> min_paid_cents, max_paid_cents;  // inclusive
  std::optional<timestamp> registered_from, registered_to;     // half-open
  std::optional<std::string> city;                             // the address's, any case
  std::optional<std::string> country;                          // ISO 3166-1 alpha-2, exactly
  // A host's list: each row's totals count only the sessions they may see.
  std::optional<ids::user> scoped_host;
};

struct item_filter {
  std::optional<std::string> q;  // substring of name or item id, any case
  std::optional<std::string> location;
  bool available = false;  // only items with available > 0
};

// The read side's answers, as JSON text, from the read-model store alone.
// Thread-safe (the store is).
class queries {
 public:
  queries(const ports::kv_store& views, const clock_source& clock) : views_(views), clock_(clock) {}

  [[nodiscard]] result<std::string> session(const ids::tenant& t, const ids::session& id,
                                            bool include_private_notes) const;
  [[nodiscard]] result<std::string> session_at(const ids::tenant& t, const ids::session& id,
                                               std::optional<std::int64_t> version,
                                               std::optional<timestamp> as_of,
                                               bool include_private_notes) const;
  [[nodiscard]] result<std::string> session_cost(const ids::tenant& t,
                                                 const ids::session& id) const;
  [[nodiscard]] result<std::string> session_events(const ids::tenant& t, const ids::session& id,
                                                   const page_request& page) const;
  [[nodiscard]] result<std::string> active_sessions(
      const ids::tenant& t, const page_request& page,
      const std::optional<ids::user>& scoped_host = {}) const;
  [[nodiscard]] result<std::string> sessions(const ids::tenant& t, const session_filter& f,
                                             const page_request& page) const;
  // {"sessions": [...]}: shopping lines still to pick, oldest session first;
  // with `include_picked`, fully picked lines too until their session ends.
  [[nodiscard]] result<std::string> picklist(const ids::tenant& t,
                                             bool include_picked = false) const;
  // For a host (`scoped_host`), the totals and figures count only the
  // sessions they may see: shopping, metered, their own appointments.
  [[nodiscard]] result<std::string> customer(
      const ids::tenant& t, const ids::customer& id,
      const std::optional<ids::user>& scoped_host = {}) const;
  // Customers that pass every filter, newest first, from the search indexes
  // the projector keeps. A page may hold fewer than `limit` when many
  // candidates fail a filter: follow next_cursor until it is null.
  [[nodiscard]] result<std::string> customers(const ids::tenant& t, const customer_filter& f,
                                              const page_request& page) const;
  [[nodiscard]] result<std::string> customer_stats(
      const ids::tenant& t, const ids::customer& id,
      const std::optional<ids::user>& scoped_host = {}) const;
  [[nodiscard]] result<std::string> resource(const ids::tenant& t, const ids::resource& id) const;
  [[nodiscard]] result<std::string> resources(const ids::tenant& t, const page_request& page) const;
  [[nodiscard]] result<std::string> item(const ids::tenant& t, const ids::item& id) const;
  [[nodiscard]] result<std::string> items(const ids::tenant& t, const page_request& page) const;
  // Items that pass every filter, by item id.
  [[nodiscard]] result<std::string> items(const ids::tenant& t, const item_filter& f,
                                          const page_request& page) const;
  [[nodiscard]] result<std::string> invoice(const ids::tenant& t, const ids::invoice& id) const;
  // Invoices and credit notes newest first, that pass every filter.
  [[nodiscard]] result<std::string> invoices(const ids::tenant& t, const invoice_filter& f,
                                             const page_request& page) const;
  // The session an invoice belongs to, if any.
  [[nodiscard]] std::optional<ids::session> invoice_session(const ids::tenant& t,
                                                            const ids::invoice& id) const;
  [[nodiscard]] result<std::string> settings(const ids::tenant& t) const;
  // The tenant's chain head: {"position": "p:o" or null, "hash"} (64 zeros
  // and null before its first event).
  [[nodiscard]] result<std::string> chain_head(const ids::tenant& t) const;
  // Webhooks not removed, by id; one webhook (removed ones too).
  [[nodiscard]] result<std::string> webhooks(const ids::tenant& t, const page_request& page) const;
  [[nodiscard]] result<std::string> webhook(const ids::tenant& t, const ids::webhook& id) const;
  // Sums the buckets of the tenant's local days from the day of `from` to the
  // day before `to` (the day of `to` too, unless `to` is its first instant).
  // Each bound is an RFC 3339 time or a date (yyyy-mm-dd: that local day's
  // first instant); invalid ones are errors naming the parameter.
  [[nodiscard]] result<std::string> analytics(const ids::tenant& t,
                                              const std::optional<std::string>& from,
                                              const std::optional<std::string>& to) const;
  // Time from added to fully picked, over the same days.
  [[nodiscard]] result<std::string> picking(const ids::tenant& t,
                                            const std::optional<std::string>& from,
                                            const std::optional<std::string>& to) const;
  // Who a session or an invoice belongs to (for the customer role).
  [[nodiscard]] std::optional<ids::customer> session_customer(const ids::tenant& t,
                                                              const ids::session& id) const;
  // Who hosts a session, if it is an appointment (for a host-scoped caller).
  struct session_owner {
    session_kind kind = session_kind::metered;
    ids::user host_id;
    ids::customer customer_id;
  };
  [[nodiscard]] std::optional<session_owner> session_owner_of(const ids::tenant& t,
                                                              const ids::session& id) const;
  [[nodiscard]] std::optional<ids::customer> invoice_customer(const ids::tenant& t,
                                                              const ids::invoice& id) const;
  struct stored_event {
    ports::position position;
    tally::event event;
    std::string json;  // the CloudEvent with its position
  };
  // Up to `limit` of the tenant's events after `after` (all if nullopt), in log order.
  [[nodiscard]] std::vector<stored_event> tenant_events_after(const ids::tenant& t,
                                                              std::optional<ports::position> after,
                                                              std::size_t limit) const;
  // The tenant's events after `after`, one CloudEvent a line (NDJSON).
  [[nodiscard]] result<std::string> tenant_events(const ids::tenant& t,
                                                  std::optional<ports::position> after,
                                                  std::size_t limit) const;

 private:
  const ports::kv_store& views_;
  const clock_source& clock_;
};

}  // namespace tally::projections
