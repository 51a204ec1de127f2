#include "infra/clock.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace tally::infra {

timestamp system_clock_source::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

test_clock::test_clock(std::string offset_file) : file_(std::move(offset_file)) {
  std::ifstream in(file_);
  std::int64_t v = 0;
  if (in >> v && v > 0) offset_ms_ = v;
}

timestamp test_clock::now() const {
  return system_clock_source{}.now() + std::chrono::milliseconds{offset_ms_.load()};
}

status test_clock::advance(std::int64_t seconds) {
  return set_offset_ms(offset_ms_.load() + seconds * 1000);
}

status test_clock::set_offset_ms(std::int64_t next) {
  static std::mutex m;
  std::lock_guard lock(m);
  if (next <= offset_ms_.load()) return ok();  // never backwards
  const std::string tmp = file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << next << '\n';
    out.flush();
    if (!out) return make_error(errc::internal, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file_, ec);
  if (ec) return make_error(errc::internal, "cannot write " + file_ + ": " + ec.message());
  offset_ms_ = next;
  return ok();
}

}  // namespace tally::infra
