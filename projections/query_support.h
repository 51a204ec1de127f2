#pragma once

// What the queries share (queries.cc, analytics_queries.cc; not for other
// folders): keyset pages, loading stored rows (a row that does not read is
// a 500, never "not found"), the tenant's settings.

#include "base/digest.h"
#include "base/json.h"
#include "domain/state_codec.h"
#include "domain/views.h"
#include "infra/ports/kv_store.h"
#include "projections/analytics.h"
#include "projections/keys.h"
#include "projections/queries.h"
#include "projections/sums.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tally::projections::query_support {

inline error bad_cursor() { return invalid_field("cursor", "is not a cursor this list gave"); }

// Walks keys under `prefix` from the page's cursor, `take` deciding per key
// whether it is part of the page; returns the page as {items, next_cursor}.
template <class Take>
result<std::string> page_of(const ports::kv_store& store, const std::string& prefix,
                            const page_request& page, Take take) {
  std::string from;
  if (!page.cursor.empty()) {
    auto k = from_hex(page.cursor);
    if (!k || !k->starts_with(prefix)) return bad_cursor();
    from = *k;
  }
  std::string items = "[";
  std::size_t count = 0;
  std::optional<std::string> next;
  auto visit = [&](std::string_view key, std::string_view value) {
    if (!page.stop_at.empty() && (page.reverse ? key < page.stop_at : key > page.stop_at))
      return false;
    if (count == page.limit) {
      next = to_hex(key);
      return false;
    }
    if (auto item = take(key, value)) {
      if (count++) items += ',';
      items += *item;
    }
    return true;
  };
  if (page.reverse)
    store.scan_reverse(prefix, from, visit);
  else
    store.scan(prefix, from, visit);
  items += ']';
  return fmt::format(R"({{"items":{},"next_cursor":{}}})", items,
                     next ? "\"" + *next + "\"" : "null");
}

// A stored row that does not read is a failure of that query (500), never
// "not found" and never left out of a list: it is there, and broken.
[[noreturn]] inline void unreadable_row(std::string_view key) {
  throw std::runtime_error("the stored read model under " + std::string(key) + " cannot be read");
}

// The event a history row (h/…) names: its one copy under e/ (keys.h).
inline std::string history_row(const ports::kv_store& store, const ids::tenant& t,
                               std::string_view key, std::string_view value) {
  auto at = layout::history_event(t, value);
  if (!at) unreadable_row(key);
  auto event = store.get(*at);
  if (!event) unreadable_row(key);
  return std::move(*event);
}

template <class T>
std::optional<T> load(const ports::kv_store& store, const ids::tenant& t, const std::string& key) {
  auto v = store.get(layout::aggregate(t, key));
  if (!v) return std::nullopt;
  auto a = decode_aggregate(key, *v);
  if (!a || !std::holds_alternative<T>(*a)) unreadable_row(layout::aggregate(t, key));
  return std::get<T>(std::move(*a));
}

// A stored document (figures, counts, a day's bucket) that must read.
template <class T>
T read_row(std::string_view key, std::string_view value) {
  auto v = json::read_own<T>(value);
  if (!v) unreadable_row(key);
  return std::move(*v);
}

inline std::string last_segment(std::string_view key) {
  return std::string(key.substr(key.rfind('/') + 1));
}

// A page of aggregates stored under "a/<tenant>/<kind>-…", in key order.
template <class T>
result<std::string> aggregate_page(const ports::kv_store& store, const ids::tenant& t,
                                   std::string_view kind, const page_request& page) {
  return page_of(store, layout::aggregate(t, std::string(kind) + "-"), page,
                 [](std::string_view key, std::string_view v) -> std::optional<std::string> {
                   return json::write(render(read_row<T>(key, v)));
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

inline tenant_settings tenant_settings_of(const ports::kv_store& store, const ids::tenant& t) {
  auto ts = load<tenant_state>(store, t, std::string(keys::tenant));
  return ts ? ts->settings : tenant_settings{};
}

// A customer's figures as the caller may see them (analytics.h).
inline customer_figures figures_for(const ports::kv_store& store, const ids::tenant& t,
                                    const ids::customer& c,
                                    const std::optional<ids::user>& scoped_host) {
  auto read = [&](const std::string& key) {
    auto v = store.get(key);
    return v ? read_row<customer_figures>(key, *v) : customer_figures{};
  };
  if (!scoped_host) return read(figures_key(t, c));
  return merged(read(open_figures_key(t, c)), read(host_figures_key(t, c, *scoped_host)));
}

// A customer's totals for a host: what the sessions they may see count.
inline void scope_totals(customer_state& c, const customer_figures& f) {
  c.total_sessions = 0;
  for (const auto& [status, n] : f.sessions_by_status) c.total_sessions += n;
  c.total_paid_cents = minus(f.paid_cents, f.refunded_cents);
}

inline error missing(std::string_view what, std::string_view id) {
  return make_error(errc::not_found, fmt::format("{} {} does not exist", what, id));
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace tally::projections::query_support
