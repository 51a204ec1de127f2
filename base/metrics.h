#pragma once

// Prometheus metrics without a client library: histograms that threads
// update lock-free, and the text exposition format (version 0.0.4) written
// family by family, so that every sample follows its own HELP and TYPE
// whatever order the code adds them in.

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

// A cumulative histogram over fixed upper bounds. observe() is thread-safe
// and lock-free (relaxed atomics: a scrape may see one observation's bucket
// before its sum, which Prometheus tolerates).
class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value);

  // Seconds, from 0.5 ms to 10 s (HTTP requests, durable writes).
  static std::vector<double> latency_bounds();
  // Counts, 1 to 512 in powers of two (commands in one batch).
  static std::vector<double> count_bounds();

  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket (the last is +Inf), not cumulative.
  [[nodiscard]] std::vector<std::uint64_t> counts() const;
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// One exposition, built by whoever has something to say, then str().
// Labels are written as given: `partition="0",route="GET /v1/x"` (values
// escaped with label()).
class metrics_text {
 public:
  void counter(std::string_view name, std::string_view help, std::string_view labels, double value);
  void gauge(std::string_view name, std::string_view help, std::string_view labels, double value);
  void histogram(std::string_view name, std::string_view help, std::string_view labels,
                 const tally::histogram& h);
  [[nodiscard]] std::string str() const;

  // `name="value"` with the value escaped as the format asks (\\, \", \n).
  static std::string label(std::string_view name, std::string_view value);

 private:
  struct family {
    std::string help, type, samples;
  };
  family& of(std::string_view name, std::string_view help, std::string_view type);
  std::vector<std::string> order_;
  std::map<std::string, family, std::less<>> families_;
};

}  // namespace tally
