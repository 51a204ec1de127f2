#pragma once

#include "domain/error.h"
#include "domain/events.h"
#include "infra/ports/kv_store.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tally::ports {

// Where an event is in the log: its partition and offset. Clients see it as
// an opaque token ("0:42"). Offsets only increase within a partition, but
// need not be consecutive (Kafka's are not, with transactions).
struct position {
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  friend auto operator<=>(const position&, const position&) = default;
  [[nodiscard]] std::string token() const {
    return std::to_string(partition) + ":" + std::to_string(offset);
  }
  static std::optional<position> parse(std::string_view token) {
    const auto colon = token.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == token.size())
      return std::nullopt;
    position p;
    auto [e1, r1] = std::from_chars(token.data(), token.data() + colon, p.partition);
    auto [e2, r2] =
        std::from_chars(token.data() + colon + 1, token.data() + token.size(), p.offset);
    if (r1 != std::errc{} || e1 != token.data() + colon || r2 != std::errc{} ||
        e2 != token.data() + token.size() || p.partition < 0 || p.offset < 0)
      return std::nullopt;
    return p;
  }
};

// One event as the log holds it: where, what, and its CloudEvent text
// (without the position attribute, which only readers outside the log need).
struct recorded_event {
  position pos;
  tally::event event;
  std::string cloud_event;
};

// The log of events: partitions, key = tenant, append-only. Implementations:
// the embedded log on RocksDB (infra/embedded_log.h), Kafka (next).
//
// Thread-safety: append is called by one writer per partition (the decider of
// commands/); read, end and wait_for by any thread.
class event_log {
 public:
  virtual ~event_log() = default;

  [[nodiscard]] virtual std::int32_t partition_count() const = 0;
  [[nodiscard]] virtual std::int32_t partition_of(const ids::tenant& tenant) const = 0;

  // What to write beside the events, given their positions: the write
  // model's changes, idempotency records, its checkpoint.
  using side_writes = std::function<kv_batch(const std::vector<position>&)>;

  // Appends `events` to `partition` durably, atomically with `side` where the
  // log can, and returns their positions. On error nothing was appended,
  // except errc::outcome_unknown.
  [[nodiscard]] virtual result<std::vector<position>> append(std::int32_t partition,
                                                             const std::vector<event>& events,
                                                             const side_writes& side) = 0;

  // Up to `max` events at or after `from`, in order.
  [[nodiscard]] virtual result<std::vector<recorded_event>> read(std::int32_t partition,
                                                                 std::int64_t from,
                                                                 std::size_t max) const = 0;

  // The offset the next event of the partition will have.
  [[nodiscard]] virtual std::int64_t end(std::int32_t partition) const = 0;

  // ok while appends can succeed as far as the log knows; otherwise why not
  // (errc::unavailable: a full disk, a cluster that is down). For /readyz.
  [[nodiscard]] virtual status writable() const { return ok(); }

  // Waits until end(partition) > offset or the timeout passes; true if so.
  virtual bool wait_for(std::int32_t partition, std::int64_t offset,
                        std::chrono::milliseconds timeout) const = 0;
};

}  // namespace tally::ports
