#pragma once

// Per-day analytics buckets, kept by the projector and summed by the query
// (docs/domain.md, "Lists, analytics, bulk").

#include "base/time.h"
#include "domain/ids.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tally {
struct session_state;
}

namespace tally::projections {

struct day_bucket {
  // Sessions dated this day (scheduled start for appointments, start or
  // request otherwise), by their current status and outcome.
  std::map<std::string, std::int64_t> sessions_by_status;
  std::map<std::string, std::int64_t> sessions_by_outcome;
  // Money by the day it happened.
  cents charged_cents = 0;
  cents paid_cents = 0;
  cents invoiced_cents = 0;
  // Sessions ended this day: per kind, completed (or completed_assumed) per
  // kind, no-shows, charged above zero, and of those now paid.
  std::map<std::string, std::int64_t> ended_by_kind;
  std::map<std::string, std::int64_t> completed_by_kind;
  std::int64_t no_shows = 0;
  std::int64_t charged_sessions = 0;
  std::int64_t paid_sessions = 0;
  // Customers registered this day.
  std::int64_t new_customers = 0;
  // Lines fully picked this day: whole seconds from added to picked -> lines.
  std::map<std::string, std::int64_t> pick_seconds;
  std::int64_t short_picks = 0;  // picks that left part of a line to pick
  // Feedback given this day, per kind of session: how many, and the sum of
  // their ratings.
  std::map<std::string, std::int64_t> ratings_by_kind;
  std::map<std::string, std::int64_t> rating_sum_by_kind;
};
BOOST_DESCRIBE_STRUCT(day_bucket, (),
                      (sessions_by_status, sessions_by_outcome, charged_cents, paid_cents,
                       invoiced_cents, ended_by_kind, completed_by_kind, no_shows, charged_sessions,
                       paid_sessions, new_customers, pick_seconds, short_picks, ratings_by_kind,
                       rating_sum_by_kind))

// The customers with sessions dated on a day (x/<t>/daycust/<day>), by
// their number (customer_number), ascending, with how many sessions each:
// summed over a year by indexing an array, not by merging string maps.
struct day_customers {
  std::vector<std::int64_t> numbers;
  std::vector<std::int64_t> counts;
};
BOOST_DESCRIBE_STRUCT(day_customers, (), (numbers, counts))

// A customer's number within the tenant (x/<t>/cnum/<id>), given in the
// order of their first dated session; 0: none yet.
struct customer_number {
  std::int64_t n = 0;
};
BOOST_DESCRIBE_STRUCT(customer_number, (), (n))

// Where a session was last counted in the day buckets (kept per session, so
// that a later change, even after the tenant changed its time zone, takes the
// session out of exactly the buckets it was counted in).
struct session_marks {
  std::string dated_day;  // yyyy-mm-dd; empty: not counted
  std::string status;
  std::string outcome;
  std::string customer_id;
  std::string ended_day;  // empty: not ended
  std::string kind;
  bool completed = false;
  bool no_show = false;
  bool charged = false;
  bool paid = false;
  friend bool operator==(const session_marks&, const session_marks&) = default;
};
BOOST_DESCRIBE_STRUCT(session_marks, (),
                      (dated_day, status, outcome, customer_id, ended_day, kind, completed, no_show,
                       charged, paid))

// One customer's figures (GET /v1/customers/{id}/stats).
struct customer_figures {
  std::map<std::string, std::int64_t> sessions_by_status;
  std::map<std::string, std::int64_t> sessions_by_outcome;
  cents charged_cents = 0;
  cents paid_cents = 0;      // every payment recorded (sessions and invoices)
  cents refunded_cents = 0;  // every refund
  cents outstanding_cents = 0;
  std::optional<timestamp> first_session_at;
  std::optional<timestamp> last_session_at;
  std::int64_t no_shows = 0;  // sessions the customer did not come to
  std::int64_t active_sessions = 0;
  // The customer's feedback, per kind of session: how many, the sum of ratings.
  std::map<std::string, std::int64_t> ratings_by_kind;
  std::map<std::string, std::int64_t> rating_sum_by_kind;
};
BOOST_DESCRIBE_STRUCT(customer_figures, (),
                      (sessions_by_status, sessions_by_outcome, charged_cents, paid_cents,
                       refunded_cents, outstanding_cents, first_session_at, last_session_at,
                       no_shows, active_sessions, ratings_by_kind, rating_sum_by_kind))

// Where a customer's figures are kept, one document per scope, because a
// host sees only some of the customer's sessions (API.md, Second wave):
// every session (admin, auditor, the customer); the sessions every host
// sees (shopping, metered, and payments on standalone invoices); one host's
// own appointments. A host reads the second and the third merged; an
// appointment with no host counts in the first alone.
std::string figures_key(const ids::tenant& t, const ids::customer& c);
std::string open_figures_key(const ids::tenant& t, const ids::customer& c);
std::string host_figures_key(const ids::tenant& t, const ids::customer& c, const ids::user& host);
// The scoped document a session (or, with none, a standalone invoice's
// payment) counts in.
std::optional<std::string> scoped_figures_key(const ids::tenant& t, const ids::customer& c,
                                              const session_state* s);
// Both scopes' figures as one: sums, counts, the earliest first and the
// latest last session.
customer_figures merged(customer_figures a, const customer_figures& b);

// The tenant's customers now.
struct customer_counts {
  std::int64_t total = 0;
  std::int64_t active = 0;
  std::int64_t with_active_session = 0;
  std::int64_t numbered = 0;  // customer numbers given (customer_number)
};
BOOST_DESCRIBE_STRUCT(customer_counts, (), (total, active, with_active_session, numbered))

struct revenue_day {
  std::string day;
  cents charged_cents = 0;
  cents paid_cents = 0;
  std::int64_t sessions = 0;  // sessions ended that day
};
BOOST_DESCRIBE_STRUCT(revenue_day, (), (day, charged_cents, paid_cents, sessions))

struct customers_summary {
  std::int64_t total = 0;                // now
  std::int64_t active = 0;               // now (not deactivated)
  std::int64_t with_active_session = 0;  // now
  std::int64_t new_in_range = 0;         // registered in the range
  std::int64_t repeat = 0;               // two or more sessions dated in the range
  cents average_revenue_cents = 0;       // paid in the range / customers with sessions in it, floor
};
BOOST_DESCRIBE_STRUCT(customers_summary, (),
                      (total, active, with_active_session, new_in_range, repeat,
                       average_revenue_cents))

// Of the customers with a session dated in the period of equal length just
// before the range (previous_from to previous_to, half-open), those with one
// dated in the range too; basis_points: returned * 10 000 / previous,
// rounded down, null without a previous period or without customers in it.
struct retention_figures {
  std::optional<std::string> previous_from;
  std::optional<std::string> previous_to;
  std::int64_t previous_customers = 0;
  std::int64_t returned_customers = 0;
  std::optional<std::int64_t> basis_points;
};
BOOST_DESCRIBE_STRUCT(retention_figures, (),
                      (previous_from, previous_to, previous_customers, returned_customers,
                       basis_points))

// The rates (completion_rate, no_show_rate, payment_success_rate) are
// written beside these fields as decimals with four places, and the
// feedback (average_rating, ratings per kind) with two (queries.cc).
struct analytics_summary {
  std::string from;
  std::string to;
  std::string timezone;
  std::map<std::string, std::int64_t> sessions_by_status;
  std::map<std::string, std::int64_t> sessions_by_outcome;
  cents charged_cents = 0;
  cents paid_cents = 0;
  cents outstanding_cents = 0;
  cents invoiced_cents = 0;
  std::int64_t repeat_customers = 0;
  std::int64_t sessions_ended = 0;
  std::vector<revenue_day> revenue_by_day;
  customers_summary customers;
  retention_figures retention;
};
BOOST_DESCRIBE_STRUCT(analytics_summary, (),
                      (from, to, timezone, sessions_by_status, sessions_by_outcome, charged_cents,
                       paid_cents, outstanding_cents, invoiced_cents, repeat_customers,
                       sessions_ended, revenue_by_day, customers, retention))

struct picking_figures {
  std::int64_t count = 0;  // lines fully picked
  std::optional<std::int64_t> p50_seconds;
  std::optional<std::int64_t> p90_seconds;
  std::optional<std::int64_t> max_seconds;
  std::int64_t short_picks = 0;
};
BOOST_DESCRIBE_STRUCT(picking_figures, (),
                      (count, p50_seconds, p90_seconds, max_seconds, short_picks))

struct picking_day {
  std::string day;
  std::int64_t count = 0;
  std::optional<std::int64_t> p50_seconds;
  std::optional<std::int64_t> p90_seconds;
  std::optional<std::int64_t> max_seconds;
  std::int64_t short_picks = 0;
};
BOOST_DESCRIBE_STRUCT(picking_day, (),
                      (day, count, p50_seconds, p90_seconds, max_seconds, short_picks))

struct picking_summary {
  std::string from;
  std::string to;
  std::string timezone;
  std::int64_t count = 0;
  std::optional<std::int64_t> p50_seconds;
  std::optional<std::int64_t> p90_seconds;
  std::optional<std::int64_t> max_seconds;
  std::int64_t short_picks = 0;
  std::vector<picking_day> days;
};
BOOST_DESCRIBE_STRUCT(picking_summary, (),
                      (from, to, timezone, count, p50_seconds, p90_seconds, max_seconds,
                       short_picks, days))

struct customer_sessions {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_status;
  std::map<std::string, std::int64_t> by_outcome;
};
BOOST_DESCRIBE_STRUCT(customer_sessions, (), (total, by_status, by_outcome))

// (average_rating and ratings per kind follow these fields, written by hand
// as in the summary.)
struct customer_stats_view {
  std::string customer_id;
  customer_sessions sessions;
  cents charged_cents = 0;
  cents paid_cents = 0;
  cents refunded_cents = 0;
  cents outstanding_cents = 0;
  std::optional<timestamp> first_session_at;
  std::optional<timestamp> last_session_at;
  std::int64_t no_shows = 0;
  std::int64_t active_sessions = 0;
  cents lifetime_value_cents = 0;
};
BOOST_DESCRIBE_STRUCT(customer_stats_view, (),
                      (customer_id, sessions, charged_cents, paid_cents, refunded_cents,
                       outstanding_cents, first_session_at, last_session_at, no_shows,
                       active_sessions, lifetime_value_cents))

}  // namespace tally::projections
