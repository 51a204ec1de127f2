#pragma once

#include "domain/clock.h"
#include "domain/error.h"

#include <atomic>
#include <memory>
#include <string>

namespace tally::infra {

class system_clock_source final : public clock_source {
 public:
  [[nodiscard]] timestamp now() const override;
};

// `tally serve --test-clock`: the system clock plus an offset that tests move
// forward. The offset is kept in a file in the data directory, so it survives
// a restart, and it never goes backwards. Thread-safe.
class test_clock final : public clock_source, public clock_control {
 public:
  explicit test_clock(std::string offset_file);
  [[nodiscard]] timestamp now() const override;
  // Moves the clock forward by `seconds` (> 0) and persists the offset.
  status advance(std::int64_t seconds) override;
  [[nodiscard]] std::int64_t offset_ms() const override { return offset_ms_.load(); }
  // Moves the clock to `offset_ms` past the system clock if that is later
  // (another process of the deployment moved it), and persists it.
  status set_offset_ms(std::int64_t offset_ms);

 private:
  std::string file_;
  std::atomic<std::int64_t> offset_ms_{0};
};

}  // namespace tally::infra
