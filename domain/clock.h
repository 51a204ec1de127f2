#pragma once

#include "base/time.h"
#include "domain/error.h"

namespace tally {

// The one clock every rule reads (DOMAIN.md, "Time"). Implementations live in
// infra/ (system clock, test clock); tests use a fixed one.
class clock_source {
 public:
  virtual ~clock_source() = default;
  [[nodiscard]] virtual timestamp now() const = 0;
};

class fixed_clock final : public clock_source {
 public:
  explicit fixed_clock(timestamp t) : now_(t) {}
  [[nodiscard]] timestamp now() const override { return now_; }
  void set(timestamp t) { now_ = t; }

 private:
  timestamp now_;
};

}  // namespace tally

namespace tally {

// The controls of `tally serve --test-clock` (API.md, "Test clock").
class clock_control {
 public:
  virtual ~clock_control() = default;
  // Moves the clock forward by `seconds` (> 0); kept across restarts.
  virtual status advance(std::int64_t seconds) = 0;
  [[nodiscard]] virtual std::int64_t offset_ms() const = 0;
};

}  // namespace tally
