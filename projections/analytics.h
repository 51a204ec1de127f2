#pragma once

// Per-day analytics buckets, kept by the projector and summed by the query
// (docs/domain.md, "Analytics").

#include "domain/ids.h"

#include <boost/describe.hpp>

#include <cstdint>
#include <map>
#include <string>

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
  // Sessions per customer, dated this day.
  std::map<std::string, std::int64_t> customers;
};
BOOST_DESCRIBE_STRUCT(day_bucket, (),
                      (sessions_by_status, sessions_by_outcome, charged_cents, paid_cents,
                       invoiced_cents, customers))

struct analytics_summary {
  std::string from;
  std::string to;
  std::map<std::string, std::int64_t> sessions_by_status;
  std::map<std::string, std::int64_t> sessions_by_outcome;
  cents charged_cents = 0;
  cents paid_cents = 0;
  cents outstanding_cents = 0;
  cents invoiced_cents = 0;
  std::int64_t repeat_customers = 0;
};
BOOST_DESCRIBE_STRUCT(analytics_summary, (),
                      (from, to, sessions_by_status, sessions_by_outcome, charged_cents, paid_cents,
                       outstanding_cents, invoiced_cents, repeat_customers))

}  // namespace tally::projections
