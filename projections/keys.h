#pragma once

// clang-format off
// The layout of the read-model store (one RocksDB database, `<data>/views`).
//   a/<tenant>/<aggregate key>               aggregate state (JSON), as evolve builds it
//   x/<tenant>/active/<rev time>/<session>   active sessions, newest first; the value is the
//                                            page's row: "<kind>\t<host id>\t<entry JSON>"
//                                            (active_row), so a page is one scan
//   x/<tenant>/sessions/<rev time>/<session> all sessions, newest first (time: list_time, an
//                                            appointment's scheduled start, else the start
//                                            or the request)
//   x/<tenant>/by_customer/<id>/…, by_kind/<kind>/…, by_status/<status>/…,
//   by_payment/<payment status>/…, by_outcome/<outcome>/…,
//   by_host/<host id>/…                      the same, per filter of GET /v1/sessions
//   x/<tenant>/customers/<rev time>/<id>     customers, newest first
//   x/<tenant>/invoices/<rev offset>/<id>    invoices and credit notes, newest first
//   x/<tenant>/picklist/<time>/<session>     shopping sessions with lines to pick (or, while
//                                            active, lines picked), oldest first
//   x/<tenant>/day/<yyyy-mm-dd>              analytics bucket of the tenant's local day (analytics.h)
//   x/<tenant>/daycust/<yyyy-mm-dd>          the customers with sessions dated that day, by number
//   x/<tenant>/cnum/<customer>               the customer's number (analytics.h)
//   x/<tenant>/smark/<session>               where the session is counted in the day buckets
//   x/<tenant>/cstats/<customer>             the customer's figures (analytics.h)
//   x/<tenant>/customer_counts/all           the tenant's customers now
//   x/<tenant>/cgram/<hex trigram>/<rev registered>/<customer>
//                                            search: trigrams of the customer's lower-case
//                                            name, e-mail and phone
//   x/<tenant>/cin_session/<rev registered>/<customer>  customers with an active session
//   x/<tenant>/igram/<hex trigram>/<item>    search: trigrams of an item's name and id
//   x/<tenant>/item_loc/<hex location>/<item>  items by lower-case location
//   x/<tenant>/chainhead                     {position, hash} of the tenant's last event (audit)
//   e/<tenant>/<partition>/<offset>          the tenant's events in log order (CloudEvents
//                                            with their position): the one copy of each
//   h/<tenant>/<stream>/<version>            each stream's events: the position of its e/ row
//                                            ("<partition>:<offset>"), not a copy
//   m/checkpoint/<partition>                 the last offset applied
//   m/stopped/<tenant>                       "<position>\t<why>": the tenant's events from
//                                            there on are not applied (ports/tenant_stops.h);
//                                            m/stopped/?<position>: a record of no known tenant
//   m/layout                                 what this layout is (layout::version)
// Numbers are zero-padded so that keys sort as numbers do; "rev" numbers
// count down so that a forward scan is newest first.
// clang-format on

#include "base/time.h"
#include "domain/ids.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally::projections::layout {

// Changes whenever what the read models derive from the events changes (a
// new field, an index keyed otherwise): a store of another version is
// dropped and rebuilt from the log when a process opens it.
// 2: December (issue 17): list_time ordering, by_outcome and by_host,
//    payments on session invoices, picked units and the views' new fields.
// 3: issue #24: attendance records carry when they were recorded.
// 4: issue #18: a stream's history names its events' positions; the event
//    itself is kept once, under e/; the active list's rows hold their entries.
inline constexpr std::string_view version = "4";
inline constexpr std::string_view version_key = "m/layout";
inline constexpr std::string_view stops_prefix = "m/stopped/";

inline std::string aggregate(const ids::tenant& t, std::string_view key) {
  return fmt::format("a/{}/{}", t.value, key);
}
inline std::string index_prefix(const ids::tenant& t, std::string_view index) {
  return fmt::format("x/{}/{}/", t.value, index);
}
inline std::string rev_number(std::int64_t v) { return fmt::format("{:019}", INT64_MAX - v); }
inline std::string index_entry(const ids::tenant& t, std::string_view index, std::int64_t order,
                               std::string_view id) {
  return index_prefix(t, index) + rev_number(order) + "/" + std::string(id);
}
inline std::string number(std::int64_t v) { return fmt::format("{:019}", v); }
inline std::string forward_entry(const ids::tenant& t, std::string_view index, std::int64_t order,
                                 std::string_view id) {
  return index_prefix(t, index) + number(order) + "/" + std::string(id);
}
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
inline std::string doc(const ids::tenant& t, std::string_view kind, std::string_view id) {
  return fmt::format("x/{}/{}/{}", t.value, kind, id);
}
inline std::string history_prefix(const ids::tenant& t, std::string_view stream) {
  return fmt::format("h/{}/{}/", t.value, stream);
}
inline std::string history(const ids::tenant& t, std::string_view stream, std::int64_t version) {
  return fmt::format("h/{}/{}/{:012}", t.value, stream, version);
}
inline std::string tenant_events_prefix(const ids::tenant& t) {
  return fmt::format("e/{}/", t.value);
}
inline std::string tenant_event(const ids::tenant& t, std::int32_t partition, std::int64_t offset) {
  return fmt::format("e/{}/{:05}/{:019}", t.value, partition, offset);
}
// The e/ row a history row names (its value, a position token), or nothing
// when the value is not a position.
inline std::optional<std::string> history_event(const ids::tenant& t, std::string_view value) {
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  const auto* end = value.data() + value.size();
  auto [p, e1] = std::from_chars(value.data(), value.data() + colon, partition);
  auto [o, e2] = std::from_chars(value.data() + colon + 1, end, offset);
  if (e1 != std::errc{} || p != value.data() + colon || e2 != std::errc{} || o != end ||
      partition < 0 || offset < 0)
    return std::nullopt;
  return tenant_event(t, partition, offset);
}
// A row of the active list (x/<tenant>/active/…): what GET /v1/sessions/active
// shows of the session, and what scoping it to a host needs.
struct active_row {
  std::string_view kind;
  std::string_view host_id;
  std::string_view entry;  // the active_session_entry, as JSON
  [[nodiscard]] std::string str() const {
    std::string out;
    out.reserve(kind.size() + host_id.size() + entry.size() + 2);
    out.append(kind).append(1, '\t').append(host_id).append(1, '\t').append(entry);
    return out;
  }
  static std::optional<active_row> parse(std::string_view v) {
    const auto a = v.find('\t');
    if (a == std::string_view::npos) return std::nullopt;
    const auto b = v.find('\t', a + 1);
    if (b == std::string_view::npos || b + 1 >= v.size()) return std::nullopt;
    return active_row{v.substr(0, a), v.substr(a + 1, b - a - 1), v.substr(b + 1)};
  }
};

// The tenant's chain head: {"position", "hash"} of its last event (docs/audit.md).
inline std::string chain_head(const ids::tenant& t) {
  return fmt::format("x/{}/chainhead", t.value);
}
inline std::string checkpoint(std::int32_t partition) {
  return fmt::format("m/checkpoint/{}", partition);
}

}  // namespace tally::projections::layout
