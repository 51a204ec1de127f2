#include "projections/insights.h"

#include "projections/sums.h"

#include "base/digest.h"
#include "base/zone.h"
#include "domain/pricing.h"

#include <boost/describe/enum_to_string.hpp>

#include <map>
#include <type_traits>

namespace tally::projections {

void trigrams(std::string_view text, std::set<std::string>& out) {
  const std::string l = layout::lower(text);
  for (std::size_t i = 0; i + 3 <= l.size(); ++i) out.insert(l.substr(i, 3));
}

namespace {

std::string name_of(auto e) { return std::string(boost::describe::enum_to_string(e, "")); }

// The tenant's time zone; an unknown name (never accepted by the settings)
// counts as UTC.
zone zone_of(const state_access& view) {
  const std::string& name = view.tenant().settings.timezone;
  if (name.empty() || name == "UTC") return zone::utc();
  thread_local std::map<std::string, zone> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, zone::find(name).value_or(zone::utc())).first;
  return it->second;
}

// The customer an event is about, as far as its data says.
template <class D>
std::optional<ids::customer> customer_in(const D& d) {
  if constexpr (requires { d.customer_id.value; }) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(d.customer_id)>, ids::customer>)
      return d.customer_id;
    else
      return std::nullopt;
  } else if constexpr (requires { d.customer.customer_id; }) {
    return d.customer.customer_id;
  } else {
    return std::nullopt;
  }
}

// The customer's search keys; the trigrams only with `grams` (events of
// other streams never change name, e-mail or phone).
std::set<std::string> customer_keys(const ids::tenant& t, const customer_state& c, bool in_session,
                                    bool with_grams) {
  std::set<std::string> grams;
  if (with_grams) {
    trigrams(c.name, grams);
    if (c.email) trigrams(*c.email, grams);
    if (c.phone) trigrams(*c.phone, grams);
    if (c.given_name) trigrams(*c.given_name, grams);
    if (c.family_name) trigrams(*c.family_name, grams);
    if (c.address && c.address->city) trigrams(*c.address->city, grams);
  }
  const std::string order =
      layout::rev_number(to_millis(c.registered_at)) + "/" + c.customer_id.value;
  std::set<std::string> keys;
  for (const auto& g : grams)
    keys.insert(layout::index_prefix(t, "cgram") + to_hex(g) + "/" + order);
  if (in_session) keys.insert(layout::index_prefix(t, "cin_session") + order);
  return keys;
}

std::set<std::string> item_keys(const ids::tenant& t, const item_state& i) {
  std::set<std::string> grams;
  trigrams(i.name, grams);
  trigrams(i.item_id.value, grams);
  std::set<std::string> keys;
  for (const auto& g : grams)
    keys.insert(layout::index_prefix(t, "igram") + to_hex(g) + "/" + i.item_id.value);
  keys.insert(layout::index_prefix(t, "item_loc") + to_hex(layout::lower(i.location)) + "/" +
              i.item_id.value);
  return keys;
}

void replace_keys(batch_writes& b, const std::set<std::string>& before,
                  const std::set<std::string>& after) {
  for (const auto& k : before)
    if (!after.contains(k)) b.erase(k);
  for (const auto& k : after)
    if (!before.contains(k)) b.put(k, "");
}

// What one session adds to its customer's figures.
struct session_share {
  std::string status;
  std::string outcome;
  cents charged = 0;
  cents outstanding = 0;
  bool active = false;
  bool no_show = false;
};

bool customer_absent(const session_state& s) {
  return s.outcome == session_outcome::no_show && s.absent_party != attendee::host;
}

cents charged_of(const session_state& s) {
  cents sum = 0;
  for (const auto& c : s.charges) add_to(sum, c.amount_cents);
  return sum;
}

session_share share_of(const session_state& s) {
  const cents charged = charged_of(s);
  return session_share{name_of(s.status),
                       s.outcome ? name_of(*s.outcome) : "",
                       charged,
                       std::max<cents>(0, minus(minus(charged, s.credited_cents), s.paid_cents())),
                       s.status == session_status::active,
                       customer_absent(s)};
}

void add_share(customer_figures& f, const session_share& s, int sign) {
  auto bump = [sign](std::map<std::string, std::int64_t>& m, const std::string& k) {
    if (k.empty()) return;
    if ((m[k] += sign) == 0) m.erase(k);
  };
  bump(f.sessions_by_status, s.status);
  bump(f.sessions_by_outcome, s.outcome);
  add_to(f.charged_cents, sign * s.charged);
  add_to(f.outstanding_cents, sign * s.outstanding);
  f.active_sessions += sign * (s.active ? 1 : 0);
  f.no_shows += sign * (s.no_show ? 1 : 0);
}

// Where the session counts in the day buckets now.
session_marks marks_of(const session_state& s, const zone& z) {
  session_marks m;
  const auto dated = s.kind == session_kind::appointment && s.scheduled_start ? *s.scheduled_start
                     : s.started_at                                           ? *s.started_at
                                                                              : s.listed_at;
  m.dated_day = format_day(z.day_of(dated));
  m.status = name_of(s.status);
  m.outcome = s.outcome ? name_of(*s.outcome) : "";
  m.customer_id = s.customer.customer_id.value;
  if (s.status == session_status::ended && s.ended_at) {
    m.ended_day = format_day(z.day_of(*s.ended_at));
    m.kind = name_of(s.kind);
    m.completed =
        s.outcome == session_outcome::completed || s.outcome == session_outcome::completed_assumed;
    m.no_show = s.outcome == session_outcome::no_show;
    m.charged = charged_of(s) > 0;
    m.paid = m.charged && payment_status_of(s) == payment_status::paid;
  }
  return m;
}

std::string day_key(const ids::tenant& t, const std::string& day) {
  return layout::index_prefix(t, "day") + day;
}

void bump(std::map<std::string, std::int64_t>& m, const std::string& k, int sign) {
  if (k.empty()) return;
  if ((m[k] += sign) == 0) m.erase(k);
}

std::int64_t number_of(batch_writes& b, const ids::tenant& t, const std::string& customer) {
  auto& number = b.doc<customer_number>(layout::doc(t, "cnum", customer));
  if (number.n == 0)
    number.n = ++b.doc<customer_counts>(layout::doc(t, "customer_counts", "all")).numbered;
  return number.n;
}

void count_customer(batch_writes& b, const ids::tenant& t, const std::string& day,
                    const std::string& customer, int sign) {
  auto& d = b.doc<day_customers>(layout::doc(t, "daycust", day));
  const auto n = number_of(b, t, customer);
  const auto at = std::lower_bound(d.numbers.begin(), d.numbers.end(), n) - d.numbers.begin();
  const auto i = static_cast<std::size_t>(at);
  if (i < d.numbers.size() && d.numbers[i] == n) {
    if ((d.counts[i] += sign) == 0) {
      d.numbers.erase(d.numbers.begin() + at);
      d.counts.erase(d.counts.begin() + at);
    }
  } else if (sign > 0) {
    d.numbers.insert(d.numbers.begin() + at, n);
    d.counts.insert(d.counts.begin() + at, sign);
  }
}

void count_marks(batch_writes& b, const ids::tenant& t, const session_marks& m, int sign) {
  if (!m.dated_day.empty()) {
    auto& d = b.doc<day_bucket>(day_key(t, m.dated_day));
    bump(d.sessions_by_status, m.status, sign);
    bump(d.sessions_by_outcome, m.outcome, sign);
    if (!m.customer_id.empty()) count_customer(b, t, m.dated_day, m.customer_id, sign);
  }
  if (!m.ended_day.empty()) {
    auto& d = b.doc<day_bucket>(day_key(t, m.ended_day));
    bump(d.ended_by_kind, m.kind, sign);
    if (m.completed) bump(d.completed_by_kind, m.kind, sign);
    d.no_shows += sign * (m.no_show ? 1 : 0);
    d.charged_sessions += sign * (m.charged ? 1 : 0);
    d.paid_sessions += sign * (m.paid ? 1 : 0);
  }
}

// A session in a customer's figures: its share, and when it started.
void count_session(customer_figures& f, const session_state& s, int sign) {
  add_share(f, share_of(s), sign);
  if (sign < 0 || !s.started_at) return;
  if (!f.first_session_at || *s.started_at < *f.first_session_at) f.first_session_at = s.started_at;
  if (!f.last_session_at || *s.started_at > *f.last_session_at) f.last_session_at = s.started_at;
}

void merge_counts(std::map<std::string, std::int64_t>& into,
                  const std::map<std::string, std::int64_t>& from) {
  for (const auto& [k, v] : from) into[k] += v;
}

}  // namespace

std::optional<ids::session> session_changed_by(const event& e) {
  if (auto s = e.stream.session()) return s;
  if (!e.stream.is(stream_kind::invoice)) return std::nullopt;
  return std::visit(
      [](const auto& d) -> std::optional<ids::session> {
        if constexpr (requires { d.session_id.has_value(); }) {
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(d.session_id)>,
                                       std::optional<ids::session>>)
            return d.session_id;
        }
        return std::nullopt;
      },
      e.data);
}

std::string figures_key(const ids::tenant& t, const ids::customer& c) {
  return layout::doc(t, "cstats", c.value);
}
std::string open_figures_key(const ids::tenant& t, const ids::customer& c) {
  return layout::doc(t, "cstats-open", c.value);
}
std::string host_figures_key(const ids::tenant& t, const ids::customer& c, const ids::user& host) {
  return layout::doc(t, "cstats-host", c.value + "/" + host.value);
}

std::optional<std::string> scoped_figures_key(const ids::tenant& t, const ids::customer& c,
                                              const session_state* s) {
  if (!s || s->kind != session_kind::appointment) return open_figures_key(t, c);
  if (s->host_id.empty()) return std::nullopt;
  return host_figures_key(t, c, s->host_id);
}

customer_figures merged(customer_figures a, const customer_figures& b) {
  merge_counts(a.sessions_by_status, b.sessions_by_status);
  merge_counts(a.sessions_by_outcome, b.sessions_by_outcome);
  add_to(a.charged_cents, b.charged_cents);
  add_to(a.paid_cents, b.paid_cents);
  add_to(a.refunded_cents, b.refunded_cents);
  add_to(a.outstanding_cents, b.outstanding_cents);
  if (b.first_session_at && (!a.first_session_at || *b.first_session_at < *a.first_session_at))
    a.first_session_at = b.first_session_at;
  if (b.last_session_at && (!a.last_session_at || *b.last_session_at > *a.last_session_at))
    a.last_session_at = b.last_session_at;
  a.no_shows += b.no_shows;
  a.active_sessions += b.active_sessions;
  merge_counts(a.ratings_by_kind, b.ratings_by_kind);
  merge_counts(a.rating_sum_by_kind, b.rating_sum_by_kind);
  return a;
}

insights::insights(batch_writes& b, batch_writes::tenant_view& view, const event& e)
    : b_(b), view_(view), e_(e) {
  if ((session_ = session_changed_by(e))) {
    if (const auto* s = view.session(*session_)) {
      session_before_ = *s;
      customer_ = s->customer.customer_id;
    }
  } else if ((customer_ = e.stream.customer())) {
  } else if ((item_ = e.stream.item())) {
    if (const auto* i = view.item(*item_)) item_keys_before_ = item_keys(e.tenant, *i);
  }
  if (!customer_) customer_ = std::visit([](const auto& d) { return customer_in(d); }, e.data);
  if (customer_) {
    if (const auto* c = view.customer(*customer_)) {
      customer_before_ = *c;
      in_session_before_ =
          b.peek<customer_figures>(layout::doc(e.tenant, "cstats", customer_->value))
              .active_sessions > 0;
      customer_keys_before_ =
          customer_keys(e.tenant, *c, in_session_before_, e.stream.is(stream_kind::customer));
    }
  }
}

void insights::after_evolve() {
  const auto& t = e_.tenant;
  const zone z = zone_of(view_);
  const auto today = format_day(z.day_of(e_.time));

  // Sessions: the customer's figures and the day buckets.
  if (session_) {
    const auto* now = view_.session(*session_);
    if (now && !customer_) customer_ = now->customer.customer_id;
    if (customer_) {
      auto& f = b_.doc<customer_figures>(figures_key(t, *customer_));
      if (session_before_) {
        count_session(f, *session_before_, -1);
        if (auto k = scoped_figures_key(t, *customer_, &*session_before_))
          count_session(b_.doc<customer_figures>(*k), *session_before_, -1);
      }
      if (now) {
        count_session(f, *now, +1);
        if (auto k = scoped_figures_key(t, *customer_, now))
          count_session(b_.doc<customer_figures>(*k), *now, +1);
      }
    }
    const std::string marks_key = layout::doc(t, "smark", session_->value);
    auto& counted = b_.doc<session_marks>(marks_key);
    const session_marks next = now ? marks_of(*now, z) : session_marks{};
    if (counted != next) {
      count_marks(b_, t, counted, -1);
      count_marks(b_, t, next, +1);
      counted = next;
    }
    // Picking: lines fully picked, and short picks.
    if (const auto* d = std::get_if<item_picked>(&e_.data); d && now) {
      auto& day = b_.doc<day_bucket>(day_key(t, today));
      if (d->remaining > 0) {
        ++day.short_picks;
      } else if (const auto* line = now->find_line(d->line_id)) {
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(e_.time - line->added_at).count();
        ++day.pick_seconds[std::to_string(std::max<std::int64_t>(0, seconds))];
      }
    }
  }

  // Feedback on the day it was given, and in the customer's figures.
  if (const auto* d = std::get_if<feedback_given>(&e_.data)) {
    const std::string kind(boost::describe::enum_to_string(d->kind, ""));
    auto& day = b_.doc<day_bucket>(day_key(t, today));
    ++day.ratings_by_kind[kind];
    day.rating_sum_by_kind[kind] += d->rating;
    const auto* rated = view_.session(d->session_id);
    for (const auto& key : {std::optional(figures_key(t, d->customer_id)),
                            scoped_figures_key(t, d->customer_id, rated)}) {
      if (!key) continue;
      auto& f = b_.doc<customer_figures>(*key);
      ++f.ratings_by_kind[kind];
      f.rating_sum_by_kind[kind] += d->rating;
    }
  }

  // Money on the day it happened.
  if (const auto* d = std::get_if<charge_processed>(&e_.data))
    add_to(b_.doc<day_bucket>(day_key(t, today)).charged_cents, d->amount_cents);
  if (const auto* d = std::get_if<payment_recorded>(&e_.data)) {
    add_to(b_.doc<day_bucket>(day_key(t, today)).paid_cents, d->amount_cents);
    const auto* paid = d->session_id ? view_.session(*d->session_id) : nullptr;
    add_to(b_.doc<customer_figures>(figures_key(t, d->customer_id)).paid_cents, d->amount_cents);
    if (!d->session_id || paid)
      if (auto k = scoped_figures_key(t, d->customer_id, paid))
        add_to(b_.doc<customer_figures>(*k).paid_cents, d->amount_cents);
  }
  if (const auto* d = std::get_if<payment_refunded>(&e_.data)) {
    add_to(b_.doc<day_bucket>(day_key(t, today)).paid_cents, -d->amount_cents);
    add_to(b_.doc<customer_figures>(figures_key(t, d->customer_id)).refunded_cents,
           d->amount_cents);
    if (const auto* refunded = view_.session(d->session_id))
      if (auto k = scoped_figures_key(t, d->customer_id, refunded))
        add_to(b_.doc<customer_figures>(*k).refunded_cents, d->amount_cents);
  }
  if (const auto* d = std::get_if<invoice_issued>(&e_.data))
    add_to(b_.doc<day_bucket>(day_key(t, today)).invoiced_cents, d->total_cents);
  if (const auto* d = std::get_if<credit_note_issued>(&e_.data))
    add_to(b_.doc<day_bucket>(day_key(t, today)).invoiced_cents, -d->total_cents);
  if (std::holds_alternative<customer_registered>(e_.data))
    ++b_.doc<day_bucket>(day_key(t, today)).new_customers;

  // Customers: search keys and the tenant's counts.
  if (customer_) {
    const auto* c = view_.customer(*customer_);
    std::set<std::string> keys;
    bool in_session = false;
    if (c) {
      in_session =
          b_.peek<customer_figures>(layout::doc(t, "cstats", customer_->value)).active_sessions > 0;
      keys = customer_keys(t, *c, in_session, e_.stream.is(stream_kind::customer));
    }
    replace_keys(b_, customer_keys_before_, keys);
    const int total = (c ? 1 : 0) - (customer_before_ ? 1 : 0);
    const int active = (c && c->active ? 1 : 0) - (customer_before_ && customer_before_->active);
    const int with_session = (in_session ? 1 : 0) - (in_session_before_ ? 1 : 0);
    if (total || active || with_session) {
      auto& counts = b_.doc<customer_counts>(layout::doc(t, "customer_counts", "all"));
      counts.total += total;
      counts.active += active;
      counts.with_active_session += with_session;
    }
  }
  if (item_) {
    std::set<std::string> keys;
    if (const auto* i = view_.item(*item_)) keys = item_keys(t, *i);
    replace_keys(b_, item_keys_before_, keys);
  }
}

}  // namespace tally::projections
