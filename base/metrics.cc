#include "base/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tally {

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void histogram::observe(double value) {
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                          bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<double> histogram::latency_bounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> histogram::count_bounds() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512}; }

std::vector<std::uint64_t> histogram::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

std::string braces(std::string_view labels) {
  return labels.empty() ? std::string() : fmt::format("{{{}}}", labels);
}

}  // namespace

metrics_text::family& metrics_text::of(std::string_view name, std::string_view help,
                                       std::string_view type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    order_.emplace_back(name);
    it = families_.emplace(std::string(name), family{std::string(help), std::string(type), {}})
             .first;
  }
  return it->second;
}

void metrics_text::counter(std::string_view name, std::string_view help, std::string_view labels,
                           double value) {
  of(name, help, "counter").samples +=
      fmt::format("{}{} {}\n", name, braces(labels), number(value));
}

void metrics_text::gauge(std::string_view name, std::string_view help, std::string_view labels,
                         double value) {
  of(name, help, "gauge").samples += fmt::format("{}{} {}\n", name, braces(labels), number(value));
}

void metrics_text::histogram(std::string_view name, std::string_view help, std::string_view labels,
                             const tally::histogram& h) {
  auto& f = of(name, help, "histogram");
  const auto counts = h.counts();
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < h.bounds().size() ? number(h.bounds()[i]) : "+Inf";
    f.samples += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, le, cumulative);
  }
  f.samples += fmt::format("{}_sum{} {}\n", name, braces(labels), number(h.sum()));
  f.samples += fmt::format("{}_count{} {}\n", name, braces(labels), cumulative);
}

std::string metrics_text::str() const {
  std::string out;
  for (const auto& name : order_) {
    const auto& f = families_.find(name)->second;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    out += f.samples;
  }
  return out;
}

std::string metrics_text::label(std::string_view name, std::string_view value) {
  std::string v;
  for (char c : value) {
    if (c == '\\' || c == '"')
      v += {'\\', c};
    else if (c == '\n')
      v += "\\n";
    else
      v += c;
  }
  return fmt::format("{}=\"{}\"", name, v);
}

}  // namespace tally
