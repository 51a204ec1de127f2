#pragma once

#include "base/time.h"

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
