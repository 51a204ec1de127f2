#include "projections/queries.h"

#include "base/json.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/state_codec.h"
#include "domain/views.h"
#include "projections/analytics.h"
#include "projections/keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace tally::projections {

namespace {

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    auto v = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = v(s[i]), lo = v(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

error bad_cursor() { return invalid_field("cursor", "is not a cursor this list gave"); }

// Walks keys under `prefix` from the page's cursor, `take` deciding per key
// whether it is part of the page; returns the page as {items, next_cursor}.
template <class Take>
result<std::string> page_of(const ports::kv_store& store, const std::string& prefix,
                            const page_request& page, Take take) {
  std::string from;
  if (!page.cursor.empty()) {
    auto k = unhex(page.cursor);
    if (!k || !k->starts_with(prefix)) return bad_cursor();
    from = *k;
  }
  std::string items = "[";
  std::size_t count = 0;
  std::optional<std::string> next;
  store.scan(prefix, from, [&](std::string_view key, std::string_view value) {
    if (count == page.limit) {
      next = hex(key);
      return false;
    }
    if (auto item = take(key, value)) {
      if (count++) items += ',';
      items += *item;
    }
    return true;
  });
  items += ']';
  return fmt::format(R"({{"items":{},"next_cursor":{}}})", items,
                     next ? "\"" + *next + "\"" : "null");
}

template <class T>
std::optional<T> load(const ports::kv_store& store, const ids::tenant& t, const std::string& key) {
  auto v = store.get(layout::aggregate(t, key));
  if (!v) return std::nullopt;
  auto a = decode_aggregate(key, *v);
  if (!a || !std::holds_alternative<T>(*a)) return std::nullopt;
  return std::get<T>(std::move(*a));
}

std::string last_segment(std::string_view key) {
  return std::string(key.substr(key.rfind('/') + 1));
}

// A page of aggregates stored under "a/<tenant>/<kind>-…", in key order.
template <class T>
result<std::string> aggregate_page(const ports::kv_store& store, const ids::tenant& t,
                                   std::string_view kind, const page_request& page) {
  return page_of(store, layout::aggregate(t, std::string(kind) + "-"), page,
                 [](std::string_view, std::string_view v) -> std::optional<std::string> {
                   auto a = json::read_own<T>(v);
                   if (!a) return std::nullopt;
                   return json::write(render(*a));
                 });
}

// A page of aggregates listed by an index whose keys end in their id.
template <class T, class Keep>
result<std::string> indexed_page(const ports::kv_store& store, const ids::tenant& t,
                                 std::string_view index, std::string_view kind,
                                 const page_request& page, Keep keep) {
  return page_of(store, layout::index_prefix(t, index), page,
                 [&](std::string_view key, std::string_view) -> std::optional<std::string> {
                   auto a = load<T>(store, t, std::string(kind) + "-" + last_segment(key));
                   if (!a || !keep(*a)) return std::nullopt;
                   return json::write(render(*a));
                 });
}

error missing(std::string_view what, std::string_view id) {
  return make_error(errc::not_found, fmt::format("{} {} does not exist", what, id));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

result<std::string> queries::session(const ids::tenant& t, const ids::session& id,
                                     bool include_private) const {
  auto s = load<session_state>(views_, t, keys::session(id));
  if (!s) return missing("session", id.value);
  return json::write(render(*s, clock_.now(), view_options{include_private}));
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
  std::optional<timestamp> last_time;
  views_.scan(layout::history_prefix(t, stream), "", [&](std::string_view, std::string_view value) {
    auto e = decode_cloud_event(value);
    if (!e) return true;
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
  const timestamp at = as_of.value_or(last_time.value_or(clock_.now()));
  return json::write(render(*s, at, view_options{include_private}));
}

result<std::string> queries::session_cost(const ids::tenant& t, const ids::session& id) const {
  auto s = load<session_state>(views_, t, keys::session(id));
  if (!s) return missing("session", id.value);
  return json::write(cost_of(*s, clock_.now()));
}

result<std::string> queries::session_events(const ids::tenant& t, const ids::session& id,
                                            const page_request& page) const {
  if (!views_.get(layout::aggregate(t, keys::session(id)))) return missing("session", id.value);
  return page_of(
      views_, layout::history_prefix(t, keys::session(id)), page,
      [](std::string_view, std::string_view v) { return std::optional<std::string>(v); });
}

result<std::string> queries::active_sessions(const ids::tenant& t, const page_request& page) const {
  return page_of(views_, layout::index_prefix(t, "active"), page,
                 [&](std::string_view key, std::string_view) -> std::optional<std::string> {
                   auto s = load<session_state>(views_, t, "session-" + last_segment(key));
                   if (!s) return std::nullopt;
                   return json::write(render_entry(*s));
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
  else if (f.from || f.to)
    index = "by_date";
  else if (f.status)
    index = "by_status/" + *f.status;
  else if (f.payment_status)
    index = "by_payment/" + *f.payment_status;
  else if (f.kind)
    index = "by_kind/" + *f.kind;
  const std::string prefix = layout::index_prefix(t, index);
  // by_date counts down in time: a first page starts at `to`, not at the newest.
  if (index == "by_date" && f.to && p.cursor.empty())
    p.cursor = hex(prefix + layout::rev_number(to_millis(*f.to) - 1));
  return page_of(
      views_, prefix, p, [&](std::string_view key, std::string_view) -> std::optional<std::string> {
        auto s = load<session_state>(views_, t, "session-" + last_segment(key));
        if (!s) return std::nullopt;
        auto v = render(*s, now);
        auto name = [](auto e) { return std::string(boost::describe::enum_to_string(e, "")); };
        if (f.status && name(v.status) != *f.status) return std::nullopt;
        if (f.kind && name(v.kind) != *f.kind) return std::nullopt;
        if (f.payment_status && name(v.payment_status) != *f.payment_status) return std::nullopt;
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

result<std::string> queries::picklist(const ids::tenant& t) const {
  std::string out = R"({"sessions":[)";
  std::size_t n = 0;
  views_.scan(layout::index_prefix(t, "picklist"), "", [&](std::string_view key, std::string_view) {
    auto s = load<session_state>(views_, t, "session-" + last_segment(key));
    if (!s) return true;
    if (auto picks = render_picks(*s)) {
      if (n++) out += ',';
      out += json::write(*picks);
    }
    return true;
  });
  out += "]}";
  return out;
}

result<std::string> queries::customer(const ids::tenant& t, const ids::customer& id) const {
  auto c = load<customer_state>(views_, t, keys::customer(id));
  if (!c) return missing("customer", id.value);
  return json::write(render(*c));
}

result<std::string> queries::customers(const ids::tenant& t, const page_request& page) const {
  return indexed_page<customer_state>(views_, t, "customers", "customer", page,
                                      [](const customer_state&) { return true; });
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

result<std::string> queries::invoices(const ids::tenant& t, const page_request& page,
                                      const std::optional<ids::customer>& customer) const {
  return indexed_page<invoice_state>(
      views_, t, "invoices", "invoice", page,
      [&](const invoice_state& i) { return !customer || i.customer_id == *customer; });
}

result<std::string> queries::analytics(const ids::tenant& t, std::optional<timestamp> from,
                                       std::optional<timestamp> to) const {
  const std::string prefix = layout::index_prefix(t, "day");
  const std::string first = from ? format_rfc3339(*from).substr(0, 10) : "";
  const std::string end = to ? format_rfc3339(*to).substr(0, 10) : "";
  const bool end_has_time = to && format_rfc3339(*to).substr(10) != "T00:00:00.000Z";
  analytics_summary sum;
  sum.from = from ? format_rfc3339(*from) : "";
  sum.to = to ? format_rfc3339(*to) : format_rfc3339(clock_.now());
  std::map<std::string, std::int64_t> customers;
  views_.scan(prefix, first.empty() ? "" : prefix + first,
              [&](std::string_view key, std::string_view value) {
                const std::string day(key.substr(prefix.size()));
                if (to && (day > end || (day == end && !end_has_time))) return false;
                auto b = json::read_own<day_bucket>(value);
                if (!b) return true;
                for (const auto& [k, v] : b->sessions_by_status) sum.sessions_by_status[k] += v;
                for (const auto& [k, v] : b->sessions_by_outcome) sum.sessions_by_outcome[k] += v;
                sum.charged_cents += b->charged_cents;
                sum.paid_cents += b->paid_cents;
                sum.invoiced_cents += b->invoiced_cents;
                for (const auto& [k, v] : b->customers) customers[k] += v;
                return true;
              });
  std::erase_if(sum.sessions_by_status, [](const auto& kv) { return kv.second == 0; });
  std::erase_if(sum.sessions_by_outcome, [](const auto& kv) { return kv.second == 0; });
  sum.outstanding_cents = std::max<cents>(0, sum.charged_cents - sum.paid_cents);
  for (const auto& [k, v] : customers) sum.repeat_customers += v >= 2;
  return json::write(sum);
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
        if (auto e = decode_cloud_event(value))
          out.push_back({pos, std::move(*e), std::string(value)});
        return out.size() < limit;
      });
  return out;
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
