// The Prometheus text the server writes: histogram buckets, label escaping,
// and families kept together whatever order samples are added in.

#include "base/metrics.h"

#include <gtest/gtest.h>

namespace tally {
namespace {

TEST(metrics_text, histograms_are_cumulative_with_sum_and_count) {
  histogram h({0.1, 1});
  h.observe(0.05);
  h.observe(0.1);  // on a bound: in that bucket (le)
  h.observe(0.5);
  h.observe(7);
  metrics_text m;
  m.histogram("x_seconds", "X.", metrics_text::label("route", "/a"), h);
  EXPECT_EQ(m.str(),
            "# HELP x_seconds X.\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"
            "x_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
            "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
            "x_seconds_sum{route=\"/a\"} 7.65\n"
            "x_seconds_count{route=\"/a\"} 4\n");
}

TEST(metrics_text, a_family_stays_together_and_labels_are_escaped) {
  metrics_text m;
  m.gauge("a", "A.", metrics_text::label("p", "0"), 1);
  m.counter("b_total", "B.", "", 2);
  m.gauge("a", "A.", metrics_text::label("p", "q\"u\\o\nte"), 3);
  EXPECT_EQ(m.str(),
            "# HELP a A.\n# TYPE a gauge\na{p=\"0\"} 1\na{p=\"q\\\"u\\\\o\\nte\"} 3\n"
            "# HELP b_total B.\n# TYPE b_total counter\nb_total 2\n");
}

}  // namespace
}  // namespace tally
