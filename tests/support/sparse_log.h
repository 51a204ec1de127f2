#pragma once

// An event log whose offsets are not consecutive, as on a Kafka cluster where
// transaction markers take offsets: event k of the wrapped log is at offset
// 3k + 1, every event is followed by a marker (3k + 2) and a gap (3k + 3),
// and the log's end lies past a trailing marker. Code that assumes
// "offset + 1 is the next event" or "end − 1 is the last event" fails on it.

#include "infra/ports/event_log.h"

#include <memory>

namespace tally::testing {

class sparse_log final : public ports::event_log {
 public:
  explicit sparse_log(ports::event_log& inner) : inner_(inner) {}

  static std::int64_t outer(std::int64_t k) { return 3 * k + 1; }
  // The first inner offset at or after outer offset `from`.
  static std::int64_t inner_from(std::int64_t from) { return from <= 0 ? 0 : (from + 1) / 3; }

  [[nodiscard]] std::int32_t partition_count() const override { return inner_.partition_count(); }
  [[nodiscard]] std::int32_t partition_of(const ids::tenant& t) const override {
    return inner_.partition_of(t);
  }
  [[nodiscard]] result<std::vector<ports::position>> append(
      std::int32_t partition, const std::vector<event>& events) override {
    auto r = inner_.append(partition, events);
    if (!r) return r;
    for (auto& p : *r) p.offset = outer(p.offset);
    return r;
  }
  [[nodiscard]] result<std::unique_ptr<ports::log_cursor>> open(std::int32_t partition,
                                                                std::int64_t from) const override {
    auto c = inner_.open(partition, inner_from(from));
    if (!c) return std::move(c).take_error();
    return std::unique_ptr<ports::log_cursor>(std::make_unique<cursor>(std::move(*c), from));
  }
  [[nodiscard]] status writable() const override { return inner_.writable(); }

 private:
  class cursor final : public ports::log_cursor {
   public:
    cursor(std::unique_ptr<ports::log_cursor> inner, std::int64_t from)
        : inner_(std::move(inner)), next_(from) {}
    result<ports::read_batch> poll(std::size_t max, std::chrono::milliseconds timeout) override {
      auto b = inner_->poll(max, timeout);
      if (!b) return b;
      for (auto& e : b->events) e.pos.offset = outer(e.pos.offset);
      // Past the last event's marker, or where it was.
      if (!b->events.empty()) next_ = b->events.back().pos.offset + 2;
      b->next = next_;
      // The end is past a trailing marker: 3 offsets per event not read yet.
      b->behind = b->at_end ? 0 : 3 * b->behind;
      return b;
    }

   private:
    std::unique_ptr<ports::log_cursor> inner_;
    std::int64_t next_;
  };

  ports::event_log& inner_;
};

}  // namespace tally::testing
