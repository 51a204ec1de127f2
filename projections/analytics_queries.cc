// The business's numbers: the analytics summary, picking times and a
// customer's figures, summed over the day buckets the projector keeps
// (analytics.h, insights.cc).

#include "projections/queries.h"

#include "base/zone.h"
#include "projections/analytics.h"
#include "projections/query_support.h"
#include "projections/sums.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tally::projections {

using namespace query_support;

namespace {

// The days a range of analytics covers, in the tenant's zone.
struct day_span {
  zone z = zone::utc();
  std::string zone_name = "UTC";
  std::optional<local_day> first;  // nullopt: from the first day with data
  local_day last;                  // inclusive
  std::string from_text, to_text;
};

std::optional<timestamp> bound(const zone& z, const std::string& text) {
  if (auto day = parse_day(text)) return z.start_of(*day);
  return parse_rfc3339(text);
}

result<day_span> span_of(const ports::kv_store& views, const ids::tenant& t,
                         const std::optional<std::string>& from,
                         const std::optional<std::string>& to, timestamp now) {
  day_span s;
  if (auto v = views.get(layout::aggregate(t, keys::tenant))) {
    if (auto a = decode_aggregate(keys::tenant, *v); a && std::holds_alternative<tenant_state>(*a))
      s.zone_name = std::get<tenant_state>(*a).settings.timezone;
    if (auto z = zone::find(s.zone_name)) s.z = *z;
  }
  std::optional<timestamp> f, e;
  if (from) {
    f = bound(s.z, *from);
    if (!f) return invalid_field("from", "must be an RFC 3339 time or a date (yyyy-mm-dd)");
  }
  if (to) {
    e = bound(s.z, *to);
    if (!e) return invalid_field("to", "must be an RFC 3339 time or a date (yyyy-mm-dd)");
  }
  if (f && e && *e < *f) return invalid_field("to", "must not be before from");
  if (f) s.first = s.z.day_of(*f);
  const timestamp end = e.value_or(now);
  s.last = s.z.day_of(end);
  if (e && s.z.start_of(s.last) == *e) s.last -= std::chrono::days(1);
  if (s.first && (s.last - *s.first).count() > 3700)
    return invalid_field("from", "the range may cover at most 3700 days");
  s.from_text = f ? format_rfc3339(*f) : "";
  s.to_text = format_rfc3339(end);
  return s;
}

// Visits the day buckets of a span, in order.
template <class Visit>
void each_bucket(const ports::kv_store& views, const ids::tenant& t, const day_span& s,
                 Visit visit) {
  const std::string prefix = layout::index_prefix(t, "day");
  const std::string last = format_day(s.last);
  views.scan(prefix, s.first ? prefix + format_day(*s.first) : "",
             [&](std::string_view key, std::string_view value) {
               const std::string day(key.substr(prefix.size()));
               if (day > last) return false;
               visit(day, read_row<day_bucket>(key, value));
               return true;
             });
}

// How many sessions dated in [first, last] each customer has, indexed by
// customer number (customer_number); first nullopt: from the first day.
std::vector<std::uint32_t> sessions_per_customer(const ports::kv_store& views, const ids::tenant& t,
                                                 std::optional<local_day> first, local_day last,
                                                 std::int64_t numbered) {
  std::vector<std::uint32_t> out(static_cast<std::size_t>(std::max<std::int64_t>(numbered, 0)) + 1,
                                 0);
  const std::string prefix = layout::index_prefix(t, "daycust");
  const std::string last_day = format_day(last);
  views.scan(prefix, first ? prefix + format_day(*first) : "",
             [&](std::string_view key, std::string_view value) {
               if (key.substr(prefix.size()) > last_day) return false;
               const auto d = read_row<day_customers>(key, value);
               for (std::size_t i = 0; i < d.numbers.size() && i < d.counts.size(); ++i) {
                 const auto n = static_cast<std::size_t>(d.numbers[i]);
                 if (n >= out.size()) out.resize(n + 1, 0);
                 out[n] += static_cast<std::uint32_t>(d.counts[i]);
               }
               return true;
             });
  return out;
}

// num / den with four decimals, rounded half up; null when den is 0.
std::string rate(std::int64_t num, std::int64_t den) {
  if (den <= 0) return "null";
  const std::int64_t v = (num * 20000 + den) / (2 * den);
  return fmt::format("{}.{:04}", v / 10000, v % 10000);
}

// sum / count with two decimals, rounded half up; null without any.
std::string average(std::int64_t sum, std::int64_t count) {
  if (count <= 0) return "null";
  const std::int64_t v = (sum * 200 + count) / (2 * count);
  return fmt::format("{}.{:02}", v / 100, v % 100);
}

// ,"average_rating":x,"ratings":{"metered":{"count","average_rating"},...}
std::string ratings_fields(const std::map<std::string, std::int64_t>& counts,
                           const std::map<std::string, std::int64_t>& sums) {
  std::int64_t all = 0, all_sum = 0;
  std::string per_kind;
  for (const char* kind : {"metered", "shopping", "appointment"}) {
    const auto n = counts.contains(kind) ? counts.at(kind) : 0;
    const auto sum = sums.contains(kind) ? sums.at(kind) : 0;
    all += n;
    all_sum += sum;
    per_kind += fmt::format(R"({}"{}":{{"count":{},"average_rating":{}}})",
                            per_kind.empty() ? "" : ",", kind, n, average(sum, n));
  }
  return fmt::format(R"(,"average_rating":{},"ratings":{{{}}})", average(all_sum, all), per_kind);
}

// Nearest-rank percentile of a histogram (seconds -> count).
std::optional<std::int64_t> percentile(const std::map<std::int64_t, std::int64_t>& h,
                                       std::int64_t n, int p) {
  if (n == 0) return std::nullopt;
  const std::int64_t rank = (n * p + 99) / 100;
  std::int64_t seen = 0;
  for (const auto& [seconds, count] : h) {
    seen += count;
    if (seen >= rank) return seconds;
  }
  return h.rbegin()->first;
}

}  // namespace

result<std::string> queries::analytics(const ids::tenant& t, const std::optional<std::string>& from,
                                       const std::optional<std::string>& to) const {
  auto span = span_of(views_, t, from, to, clock_.now());
  if (!span) return std::move(span).take_error();
  analytics_summary sum;
  sum.from = span->from_text;
  sum.to = span->to_text;
  sum.timezone = span->zone_name;
  std::map<std::string, std::int64_t> ended, completed, ratings, rating_sums;
  std::int64_t no_shows = 0, charged_sessions = 0, paid_sessions = 0;
  std::map<std::string, revenue_day> days;
  each_bucket(views_, t, *span, [&](const std::string& day, const day_bucket& b) {
    for (const auto& [k, v] : b.sessions_by_status) sum.sessions_by_status[k] += v;
    for (const auto& [k, v] : b.sessions_by_outcome) sum.sessions_by_outcome[k] += v;
    add_to(sum.charged_cents, b.charged_cents);
    add_to(sum.paid_cents, b.paid_cents);
    add_to(sum.invoiced_cents, b.invoiced_cents);
    std::int64_t ended_today = 0;
    for (const auto& [k, v] : b.ended_by_kind) {
      ended[k] += v;
      ended_today += v;
    }
    for (const auto& [k, v] : b.completed_by_kind) completed[k] += v;
    no_shows += b.no_shows;
    charged_sessions += b.charged_sessions;
    paid_sessions += b.paid_sessions;
    sum.customers.new_in_range += b.new_customers;
    for (const auto& [k, v] : b.ratings_by_kind) ratings[k] += v;
    for (const auto& [k, v] : b.rating_sum_by_kind) rating_sums[k] += v;
    days[day] = revenue_day{day, b.charged_cents, b.paid_cents, ended_today};
  });
  std::erase_if(sum.sessions_by_status, [](const auto& kv) { return kv.second == 0; });
  std::erase_if(sum.sessions_by_outcome, [](const auto& kv) { return kv.second == 0; });
  sum.outstanding_cents = std::max<cents>(0, minus(sum.charged_cents, sum.paid_cents));
  // Sessions per customer over the range, by customer number.
  customer_counts counts;
  const auto counts_key = layout::doc(t, "customer_counts", "all");
  if (auto c = views_.get(counts_key)) counts = read_row<customer_counts>(counts_key, *c);
  const auto per_customer =
      sessions_per_customer(views_, t, span->first, span->last, counts.numbered);
  std::int64_t with_sessions = 0;
  for (const auto v : per_customer) {
    sum.repeat_customers += v >= 2;
    with_sessions += v >= 1;
  }
  for (const auto& [k, v] : ended) sum.sessions_ended += v;
  // Every day of the range, also those without a bucket.
  const local_day first =
      span->first.value_or(days.empty() ? span->last : *parse_day(days.begin()->first));
  for (local_day d = first; d <= span->last; d += std::chrono::days(1)) {
    const std::string day = format_day(d);
    auto it = days.find(day);
    sum.revenue_by_day.push_back(it != days.end() ? it->second : revenue_day{day});
  }
  sum.customers.total = counts.total;
  sum.customers.active = counts.active;
  sum.customers.with_active_session = counts.with_active_session;
  sum.customers.repeat = sum.repeat_customers;
  sum.customers.average_revenue_cents =
      with_sessions > 0 ? std::max<cents>(0, sum.paid_cents) / with_sessions : 0;
  if (span->first && *span->first <= span->last) {
    // The period of equal length just before the range.
    const auto days = span->last - *span->first + std::chrono::days(1);
    const local_day previous_first = *span->first - days;
    const auto before = sessions_per_customer(views_, t, previous_first,
                                              *span->first - std::chrono::days(1), counts.numbered);
    auto& r = sum.retention;
    r.previous_from = format_rfc3339(span->z.start_of(previous_first));
    r.previous_to = format_rfc3339(span->z.start_of(*span->first));
    for (std::size_t n = 0; n < before.size(); ++n) {
      if (before[n] == 0) continue;
      ++r.previous_customers;
      r.returned_customers += n < per_customer.size() && per_customer[n] > 0;
    }
    if (r.previous_customers > 0)
      r.basis_points = r.returned_customers * 10000 / r.previous_customers;
  }
  std::string out = json::write(sum);
  out.pop_back();  // '}': the rates follow, written as decimals
  std::string rates;
  for (const char* kind : {"metered", "shopping", "appointment"})
    rates += fmt::format("{}\"{}\":{}", rates.empty() ? "" : ",", kind,
                         rate(completed[kind], ended[kind]));
  out +=
      fmt::format(R"(,"completion_rate":{{{}}},"no_show_rate":{},"payment_success_rate":{})", rates,
                  rate(no_shows, ended["appointment"]), rate(paid_sessions, charged_sessions));
  out += ratings_fields(ratings, rating_sums) + "}";
  return out;
}

result<std::string> queries::picking(const ids::tenant& t, const std::optional<std::string>& from,
                                     const std::optional<std::string>& to) const {
  auto span = span_of(views_, t, from, to, clock_.now());
  if (!span) return std::move(span).take_error();
  picking_summary sum;
  sum.from = span->from_text;
  sum.to = span->to_text;
  sum.timezone = span->zone_name;
  std::map<std::int64_t, std::int64_t> all;
  std::map<std::string, picking_day> days;
  each_bucket(views_, t, *span, [&](const std::string& day, const day_bucket& b) {
    if (b.pick_seconds.empty() && b.short_picks == 0) return;
    std::map<std::int64_t, std::int64_t> h;
    std::int64_t n = 0;
    for (const auto& [k, v] : b.pick_seconds) {
      h[std::stoll(k)] += v;
      all[std::stoll(k)] += v;
      n += v;
    }
    picking_day d{day,
                  n,
                  percentile(h, n, 50),
                  percentile(h, n, 90),
                  h.empty() ? std::nullopt : std::optional(h.rbegin()->first),
                  b.short_picks};
    sum.count += n;
    sum.short_picks += b.short_picks;
    days[day] = d;
  });
  sum.p50_seconds = percentile(all, sum.count, 50);
  sum.p90_seconds = percentile(all, sum.count, 90);
  if (!all.empty()) sum.max_seconds = all.rbegin()->first;
  const local_day first =
      span->first.value_or(days.empty() ? span->last : *parse_day(days.begin()->first));
  for (local_day d = first; d <= span->last; d += std::chrono::days(1)) {
    const std::string day = format_day(d);
    auto it = days.find(day);
    sum.days.push_back(it != days.end() ? it->second : picking_day{day});
  }
  return json::write(sum);
}

result<std::string> queries::customer_stats(const ids::tenant& t, const ids::customer& id,
                                            const std::optional<ids::user>& scoped_host) const {
  auto c = load<customer_state>(views_, t, keys::customer(id));
  if (!c) return missing("customer", id.value);
  const customer_figures f = figures_for(views_, t, id, scoped_host);
  customer_stats_view out;
  out.customer_id = id.value;
  out.sessions.by_status = f.sessions_by_status;
  out.sessions.by_outcome = f.sessions_by_outcome;
  for (const auto& [k, v] : f.sessions_by_status) out.sessions.total += v;
  out.charged_cents = f.charged_cents;
  out.paid_cents = f.paid_cents;
  out.refunded_cents = f.refunded_cents;
  out.outstanding_cents = f.outstanding_cents;
  out.first_session_at = f.first_session_at;
  out.last_session_at = f.last_session_at;
  out.no_shows = f.no_shows;
  out.active_sessions = f.active_sessions;
  out.lifetime_value_cents = minus(f.paid_cents, f.refunded_cents);
  std::string text = json::write(out);
  text.pop_back();  // '}': the feedback follows, written as decimals
  return text + ratings_fields(f.ratings_by_kind, f.rating_sum_by_kind) + "}";
}

}  // namespace tally::projections
