#include "projections/queries.h"

#include "domain/chain.h"

#include "base/digest.h"
#include "base/json.h"
#include "base/zone.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/state_codec.h"
#include "domain/views.h"
#include "projections/analytics.h"
#include "projections/insights.h"
#include "projections/keys.h"
#include "projections/query_support.h"
#include "projections/sums.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace tally::projections {

using namespace query_support;

result<std::string> queries::session(const ids::tenant& t, const ids::session& id,
                                     bool include_private) const {
  auto s = load<session_state>(views_, t, keys::session(id));
  if (!s) return missing("session", id.value);
  const auto settings = tenant_settings_of(views_, t);
  return json::write(render(*s, clock_.now(), view_options{include_private, &settings}));
}

result<std::string> queries::session_at(const ids::tenant& t, const ids::session& id,
                                        std::optional<std::int64_t> version,
                                        std::optional<timestamp> as_of,
                                        bool include_private) const {
  // Folds the session's own events with the domain's evolve. Other streams
  // are not needed: a session's view depends on its own events only.
  memory_state state;
  const std::string stream = keys::session(id);
  bool any = false;
  std::int64_t newest = 0;
  std::optional<timestamp> last_time;
  views_.scan(layout::history_prefix(t, stream), "",
              [&](std::string_view key, std::string_view value) {
                const auto row = history_row(views_, t, key, value);
                auto e = decode_cloud_event(row);
                if (!e) unreadable_row(key);
                newest = e->stream_version.value;
                if (version && e->stream_version.value > *version) return false;
                if (as_of && e->time > *as_of) return false;
                evolve(state, *e);
                last_time = e->time;
                any = true;
                return true;
              });
  const auto* s = state.session(id);
  if (!any || !s) {
    if (!load<session_state>(views_, t, stream)) return missing("session", id.value);
    return make_error(errc::not_found, "the session did not exist at that version or time");
  }
  // A version it has not reached does not exist yet (not its current state).
  if (version && *version > newest)
    return make_error(
        errc::not_found,
        fmt::format("the session has no version {} (its newest is {})", *version, newest));
  const timestamp at = as_of.value_or(last_time.value_or(clock_.now()));
  const auto settings = tenant_settings_of(views_, t);
  return json::write(render(*s, at, view_options{include_private, &settings}));
}

result<std::string> queries::session_cost(const ids::tenant& t, const ids::session& id) const {
  auto s = load<session_state>(views_, t, keys::session(id));
  if (!s) return missing("session", id.value);
  return json::write(cost_of(*s, clock_.now()));
}

result<std::string> queries::session_events(const ids::tenant& t, const ids::session& id,
                                            const page_request& page) const {
  if (!views_.get(layout::aggregate(t, keys::session(id)))) return missing("session", id.value);
  return page_of(views_, layout::history_prefix(t, keys::session(id)), page,
                 [&](std::string_view key, std::string_view v) {
                   return std::optional<std::string>(history_row(views_, t, key, v));
                 });
}

result<std::string> queries::active_sessions(const ids::tenant& t, const page_request& page,
                                             const std::optional<ids::user>& scoped_host) const {
  return page_of(
      views_, layout::index_prefix(t, "active"), page,
      [&](std::string_view key, std::string_view value) -> std::optional<std::string> {
        // The row is the page's entry (keys.h): no aggregate is read.
        const auto row = layout::active_row::parse(value);
        if (!row) unreadable_row(key);
        if (scoped_host && row->kind == "appointment" && row->host_id != scoped_host->value)
          return std::nullopt;
        return std::string(row->entry);
      });
}

result<std::string> queries::sessions(const ids::tenant& t, const session_filter& f,
                                      const page_request& page) const {
  const auto now = clock_.now();
  const auto q = f.q ? std::optional<std::string>(lower(*f.q)) : std::nullopt;
  // The most selective index the filters allow; the other filters are
  // checked on the sessions it yields.
  std::string index = "sessions";
  page_request p = page;
  if (f.customer_id)
    index = "by_customer/" + *f.customer_id;
  else if (f.host_id)
    index = "by_host/" + *f.host_id;
  else if (f.outcome)
    index = "by_outcome/" + *f.outcome;
  else if (f.status)
    index = "by_status/" + *f.status;
  else if (f.payment_status)
    index = "by_payment/" + *f.payment_status;
  else if (f.kind)
    index = "by_kind/" + *f.kind;
  const std::string prefix = layout::index_prefix(t, index);
  // Every list is ordered by list_time, which is what from/to range over
  // (an appointment's scheduled start, another session's start): a page
  // starts at the near end of the range and the scan ends past the far end.
  // ('~' sorts after every character of an id.)
  const auto newest = [&](timestamp to) { return prefix + layout::rev_number(to_millis(to) - 1); };
  const auto oldest = [&](timestamp from) {
    return prefix + layout::rev_number(to_millis(from)) + "/~";
  };
  if (!p.reverse) {
    if (f.to && p.cursor.empty()) p.cursor = to_hex(newest(*f.to));
    if (f.from) p.stop_at = oldest(*f.from);
  } else {
    if (f.from && p.cursor.empty()) p.cursor = to_hex(oldest(*f.from));
    if (f.to) p.stop_at = newest(*f.to);
  }
  const auto settings = tenant_settings_of(views_, t);
  return page_of(
      views_, prefix, p, [&](std::string_view key, std::string_view) -> std::optional<std::string> {
        auto s = load<session_state>(views_, t, "session-" + last_segment(key));
        if (!s) return std::nullopt;
        if (f.scoped_host && s->kind == session_kind::appointment && s->host_id != *f.scoped_host)
          return std::nullopt;
        auto v = render(*s, now, view_options{true, &settings});
        auto name = [](auto e) { return std::string(boost::describe::enum_to_string(e, "")); };
        if (f.status && name(v.status) != *f.status) return std::nullopt;
        if (f.kind && name(v.kind) != *f.kind) return std::nullopt;
        if (f.payment_status && name(v.payment_status) != *f.payment_status) return std::nullopt;
        if (f.outcome && (!v.outcome || name(*v.outcome) != *f.outcome)) return std::nullopt;
        if (f.host_id && v.host_id.value != *f.host_id) return std::nullopt;
        if (f.invoiced && v.invoice_id.has_value() != *f.invoiced) return std::nullopt;
        if (f.customer_id && v.customer.customer_id.value != *f.customer_id) return std::nullopt;
        const auto when = v.kind == session_kind::appointment ? v.scheduled_start : v.started_at;
        if (f.from && (!when || *when < *f.from)) return std::nullopt;
        if (f.to && (!when || *when >= *f.to)) return std::nullopt;
        if (q && lower(v.title.value_or("")).find(*q) == std::string::npos &&
            lower(v.customer.name).find(*q) == std::string::npos) {
          auto c = load<customer_state>(views_, t, keys::customer(v.customer.customer_id));
          if (!c || !c->email || lower(*c->email).find(*q) == std::string::npos)
            return std::nullopt;
        }
        return json::write(v);
      });
}

result<std::string> queries::picklist(const ids::tenant& t, bool include_picked) const {
  std::string out = R"({"sessions":[)";
  std::size_t n = 0;
  views_.scan(layout::index_prefix(t, "picklist"), "", [&](std::string_view key, std::string_view) {
    auto s = load<session_state>(views_, t, "session-" + last_segment(key));
    if (!s) return true;
    if (auto picks = render_picks(*s, include_picked)) {
      if (n++) out += ',';
      out += json::write(*picks);
    }
    return true;
  });
  out += "]}";
  return out;
}

result<std::string> queries::customer(const ids::tenant& t, const ids::customer& id,
                                      const std::optional<ids::user>& scoped_host) const {
  auto c = load<customer_state>(views_, t, keys::customer(id));
  if (!c) return missing("customer", id.value);
  if (scoped_host) scope_totals(*c, figures_for(views_, t, id, scoped_host));
  return json::write(render(*c));
}

namespace {

// The first key under `prefix` at or after prefix + from: its rest.
std::optional<std::string> seek(const ports::kv_store& store, const std::string& prefix,
                                const std::string& from) {
  std::optional<std::string> found;
  store.scan(prefix, prefix + from, [&](std::string_view key, std::string_view) {
    found = std::string(key.substr(prefix.size()));
    return false;
  });
  return found;
}

// Walks the keys that every list (a prefix whose keys end in one shared
// order, "<rev time>/<id>" or "<id>") holds, in order, from `from`: a
// leapfrog join, each step a seek. `visit` returns false to stop; the walk
// also stops once `budget` seeks are spent, returning where it was.
template <class Visit>
std::optional<std::string> join(const ports::kv_store& store, const std::vector<std::string>& lists,
                                std::string from, std::size_t budget, Visit visit) {
  std::size_t agree = 0, i = 0;
  while (budget-- > 0) {
    auto next = seek(store, lists[i], from);
    if (!next) return std::nullopt;
    if (*next != from) {
      from = std::move(*next);
      agree = 0;
    }
    if (++agree == lists.size()) {
      if (!visit(from)) return from;
      from += '\0';  // the next key after this one
      agree = 0;
    }
    i = (i + 1) % lists.size();
  }
  return from;
}

constexpr std::size_t search_budget = 20'000;

}  // namespace

result<std::string> queries::customers(const ids::tenant& t, const customer_filter& f,
                                       const page_request& page) const {
  const std::string base = layout::index_prefix(t, "customers");
  std::vector<std::string> lists;
  const std::string q = f.q ? layout::lower(*f.q) : "";
  std::set<std::string> grams;
  trigrams(q, grams);
  for (const auto& g : grams) lists.push_back(layout::index_prefix(t, "cgram") + to_hex(g) + "/");
  if (f.has_active_session.value_or(false)) lists.push_back(layout::index_prefix(t, "cin_session"));
  if (lists.empty()) lists.push_back(base);
  // Newest first: registered_to bounds where the walk starts, registered_from where it ends.
  std::string from;
  if (f.registered_to) from = layout::rev_number(to_millis(*f.registered_to) - 1);
  if (!page.cursor.empty()) {
    auto k = from_hex(page.cursor);
    if (!k || !k->starts_with(base)) return bad_cursor();
    from = std::max(from, k->substr(base.size()));
  }
  const std::string stop_after =
      f.registered_from ? layout::rev_number(to_millis(*f.registered_from)) + "/\xff" : "";
  std::string items = "[";
  std::size_t count = 0;
  bool more = false;
  auto last = join(views_, lists, from, search_budget, [&](const std::string& order) {
    if (!stop_after.empty() && order > stop_after) return false;
    if (count == page.limit) {
      more = true;
      return false;
    }
    const std::string id = last_segment(order);
    auto c = load<customer_state>(views_, t, "customer-" + id);
    if (!c) return true;
    auto has = [&](const std::optional<std::string>& v) {
      return v && layout::lower(*v).find(q) != std::string::npos;
    };
    const auto* address = c->address ? &*c->address : nullptr;
    if (!q.empty() && !has(c->name) && !has(c->email) && !has(c->phone) && !has(c->given_name) &&
        !has(c->family_name) && !(address && has(address->city)))
      return true;
    if (f.city &&
        !(address && address->city && layout::lower(*address->city) == layout::lower(*f.city)))
      return true;
    if (f.country && !(address && address->country == *f.country)) return true;
    if (f.scoped_host) scope_totals(*c, figures_for(views_, t, c->customer_id, f.scoped_host));
    if (f.active && c->active != *f.active) return true;
    if (f.min_sessions && c->total_sessions < *f.min_sessions) return true;
    if (f.max_sessions && c->total_sessions > *f.max_sessions) return true;
    if (f.min_paid_cents && c->total_paid_cents < *f.min_paid_cents) return true;
    if (f.max_paid_cents && c->total_paid_cents > *f.max_paid_cents) return true;
    if (f.registered_from && c->registered_at < *f.registered_from) return true;
    if (f.registered_to && c->registered_at >= *f.registered_to) return true;
    if (f.has_active_session) {
      customer_figures figures;
      const auto key = layout::doc(t, "cstats", id);
      if (auto v = views_.get(key)) figures = read_row<customer_figures>(key, *v);
      if ((figures.active_sessions > 0) != *f.has_active_session) return true;
    }
    if (count++) items += ',';
    items += json::write(render(*c));
    return true;
  });
  items += ']';
  // A next page where the walk stopped short: at the page's end, or out of budget.
  const bool out_of_budget = last && !more && (stop_after.empty() || *last <= stop_after);
  const auto next =
      (more || out_of_budget) && last ? std::optional(to_hex(base + *last)) : std::nullopt;
  return fmt::format(R"({{"items":{},"next_cursor":{}}})", items,
                     next ? "\"" + *next + "\"" : "null");
}

result<std::string> queries::items(const ids::tenant& t, const item_filter& f,
                                   const page_request& page) const {
  const std::string base = layout::aggregate(t, "item-");
  std::vector<std::string> lists;
  const std::string q = f.q ? layout::lower(*f.q) : "";
  std::set<std::string> grams;
  trigrams(q, grams);
  for (const auto& g : grams) lists.push_back(layout::index_prefix(t, "igram") + to_hex(g) + "/");
  if (f.location)
    lists.push_back(layout::index_prefix(t, "item_loc") + to_hex(layout::lower(*f.location)) + "/");
  if (lists.empty()) lists.push_back(base);
  std::string from;
  if (!page.cursor.empty()) {
    auto k = from_hex(page.cursor);
    if (!k || !k->starts_with(base)) return bad_cursor();
    from = k->substr(base.size());
  }
  std::string out = "[";
  std::size_t count = 0;
  bool more = false;
  auto last = join(views_, lists, from, search_budget, [&](const std::string& id) {
    if (count == page.limit) {
      more = true;
      return false;
    }
    auto i = load<item_state>(views_, t, "item-" + id);
    if (!i) return true;
    if (!q.empty() && layout::lower(i->name).find(q) == std::string::npos &&
        layout::lower(i->item_id.value).find(q) == std::string::npos)
      return true;
    if (f.location && layout::lower(i->location) != layout::lower(*f.location)) return true;
    if (f.available && i->available() <= 0) return true;
    if (count++) out += ',';
    out += json::write(render(*i));
    return true;
  });
  out += ']';
  const auto next = last ? std::optional(to_hex(base + *last)) : std::nullopt;
  return fmt::format(R"({{"items":{},"next_cursor":{}}})", out,
                     next ? "\"" + *next + "\"" : "null");
}

result<std::string> queries::resource(const ids::tenant& t, const ids::resource& id) const {
  auto r = load<resource_state>(views_, t, keys::resource(id));
  if (!r) return missing("resource", id.value);
  return json::write(render(*r));
}

result<std::string> queries::resources(const ids::tenant& t, const page_request& page) const {
  return aggregate_page<resource_state>(views_, t, "resource", page);
}

result<std::string> queries::item(const ids::tenant& t, const ids::item& id) const {
  auto i = load<item_state>(views_, t, keys::item(id));
  if (!i) return missing("item", id.value);
  return json::write(render(*i));
}

result<std::string> queries::items(const ids::tenant& t, const page_request& page) const {
  return aggregate_page<item_state>(views_, t, "item", page);
}

result<std::string> queries::invoice(const ids::tenant& t, const ids::invoice& id) const {
  auto i = load<invoice_state>(views_, t, keys::invoice(id));
  if (!i) return missing("invoice", id.value);
  return json::write(render(*i));
}

result<std::string> queries::invoices(const ids::tenant& t, const invoice_filter& f,
                                      const page_request& page) const {
  return indexed_page<invoice_state>(
      views_, t, "invoices", "invoice", page, [&](const invoice_state& i) {
        if (f.customer_id && i.customer_id != *f.customer_id) return false;
        if (f.session_id && i.session_id != *f.session_id) return false;
        if (f.standalone && i.session_id.has_value() == *f.standalone) return false;
        if (f.from && i.issued_at < *f.from) return false;
        if (f.to && i.issued_at >= *f.to) return false;
        if (f.payment_status &&
            (i.kind != invoice_kind::invoice ||
             boost::describe::enum_to_string(i.payment_status, "") != *f.payment_status))
          return false;
        if (!f.scoped_host || !i.session_id) return true;
        const auto o = session_owner_of(t, *i.session_id);
        return !o || o->kind != session_kind::appointment || o->host_id == *f.scoped_host;
      });
}

std::optional<ids::session> queries::invoice_session(const ids::tenant& t,
                                                     const ids::invoice& id) const {
  auto i = load<invoice_state>(views_, t, keys::invoice(id));
  if (!i) return std::nullopt;
  return i->session_id;
}

result<std::string> queries::webhooks(const ids::tenant& t, const page_request& page) const {
  return page_of(views_, layout::aggregate(t, "webhook-"), page,
                 [](std::string_view key, std::string_view v) -> std::optional<std::string> {
                   auto w = read_row<webhook_state>(key, v);
                   if (!w.active) return std::nullopt;
                   return json::write(render(w));
                 });
}

result<std::string> queries::webhook(const ids::tenant& t, const ids::webhook& id) const {
  auto w = load<webhook_state>(views_, t, keys::webhook(id));
  if (!w) return missing("webhook", id.value);
  return json::write(render(*w));
}

result<std::string> queries::settings(const ids::tenant& t) const {
  auto s = load<tenant_state>(views_, t, std::string(keys::tenant));
  return json::write(render(s.value_or(tenant_state{})));
}

std::optional<ids::customer> queries::session_customer(const ids::tenant& t,
                                                       const ids::session& id) const {
  auto s = load<session_state>(views_, t, keys::session(id));
  if (!s) return std::nullopt;
  return s->customer.customer_id;
}

std::optional<queries::session_owner> queries::session_owner_of(const ids::tenant& t,
                                                                const ids::session& id) const {
  auto s = load<session_state>(views_, t, keys::session(id));
  if (!s) return std::nullopt;
  return session_owner{s->kind, s->host_id, s->customer.customer_id};
}

std::optional<ids::customer> queries::invoice_customer(const ids::tenant& t,
                                                       const ids::invoice& id) const {
  auto i = load<invoice_state>(views_, t, keys::invoice(id));
  if (!i) return std::nullopt;
  return i->customer_id;
}

std::vector<queries::stored_event> queries::tenant_events_after(
    const ids::tenant& t, std::optional<ports::position> after, std::size_t limit) const {
  std::vector<stored_event> out;
  const std::string from =
      after ? layout::tenant_event(t, after->partition, after->offset) + '\0' : std::string();
  views_.scan(
      layout::tenant_events_prefix(t), from, [&](std::string_view key, std::string_view value) {
        // key: e/<tenant>/<partition>/<offset>
        const auto offset_at = key.rfind('/');
        const auto partition_at = key.rfind('/', offset_at - 1);
        ports::position pos{
            std::stoi(std::string(key.substr(partition_at + 1, offset_at - partition_at - 1))),
            std::stoll(std::string(key.substr(offset_at + 1)))};
        auto e = decode_cloud_event(value);
        if (!e) unreadable_row(key);
        out.push_back({pos, std::move(*e), std::string(value)});
        return out.size() < limit;
      });
  return out;
}

result<std::string> queries::chain_head(const ids::tenant& t) const {
  if (auto v = views_.get(layout::chain_head(t))) return *v;
  return R"({"position":null,"hash":")" + std::string(genesis_hash) + "\"}";
}

result<std::string> queries::tenant_events(const ids::tenant& t,
                                           std::optional<ports::position> after,
                                           std::size_t limit) const {
  const std::string prefix = layout::tenant_events_prefix(t);
  std::string from =
      after ? layout::tenant_event(t, after->partition, after->offset) + '\0' : std::string();
  std::string out;
  std::size_t n = 0;
  views_.scan(prefix, from, [&](std::string_view, std::string_view value) {
    out.append(value);
    out += '\n';
    return ++n < limit;
  });
  return out;
}

}  // namespace tally::projections
