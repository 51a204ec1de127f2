#pragma once

#include "domain/error.h"
#include "domain/events.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
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

// A record of the log that is not an event this build can read: a damaged
// or foreign log, or an event of a schema it does not know. Never written
// by Tally itself (hash_to_append). Its readers stop only the tenant it
// belongs to (ARCHITECTURE.md; docs/operations.md, "A tenant's projection is
// stopped").
struct unreadable_record {
  position pos;
  // Whose it is as far as the log can tell: the Kafka key, or the
  // CloudEvent's "tenant" member where that can still be found; nothing
  // when the record is too damaged to say.
  std::optional<ids::tenant> tenant;
  std::string reason;
};

// What one poll of a cursor gives.
struct read_batch {
  std::vector<recorded_event> events;  // in log order
  // The records between them that cannot be read, in log order: a reader
  // takes them into account by position (events of their tenant after them
  // are not applied on top of a history with a hole).
  std::vector<unreadable_record> unreadable;
  // Where the cursor reads on: past these events and past any record of the
  // log that is not an event (a transaction marker on Kafka). Never assume
  // it is the last event's offset + 1.
  std::int64_t next = 0;
  // The last offset the batch holds, event or unreadable record; -1 if none.
  [[nodiscard]] std::int64_t last_offset() const {
    std::int64_t last = -1;
    if (!events.empty()) last = events.back().pos.offset;
    if (!unreadable.empty()) last = std::max(last, unreadable.back().pos.offset);
    return last;
  }
  [[nodiscard]] bool empty() const { return events.empty() && unreadable.empty(); }
  // True when the cursor has reached what the log holds now: a reader that
  // applied every event it was given is caught up.
  bool at_end = false;
  // How many offsets the log's end is past `next`, as far as the log knew at
  // the poll: an estimate for lag, 0 when at_end. Markers count too.
  std::int64_t behind = 0;
};

// A reader of one partition, from a starting offset on. Owned and used by one
// thread.
class log_cursor {
 public:
  virtual ~log_cursor() = default;
  // Up to `max` events from where the cursor is. When there are none yet,
  // waits up to `timeout` for some (a notification, not a sleep).
  [[nodiscard]] virtual result<read_batch> poll(std::size_t max,
                                                std::chrono::milliseconds timeout) = 0;
};

// The log of events: partitions, key = tenant, append-only. It appends and
// it reads, nothing else: what a writer keeps beside the events goes to its
// own store after the append is durable, and can be derived from the log
// again (ARCHITECTURE.md, "The write model"). Implementations: the embedded
// log on RocksDB (infra/embedded_log.h) and Kafka (infra/kafka_log.h).
//
// Thread-safety: append is called by one writer per partition (the decider of
// commands/); open and writable by any thread.
class event_log {
 public:
  virtual ~event_log() = default;

  [[nodiscard]] virtual std::int32_t partition_count() const = 0;
  [[nodiscard]] virtual std::int32_t partition_of(const ids::tenant& tenant) const = 0;

  // Appends `events` to `partition` durably and returns their positions, in
  // order. On error nothing was appended, except with errc::outcome_unknown:
  // then the events may be in the log, and the writer must read the log to
  // know.
  [[nodiscard]] virtual result<std::vector<position>> append(std::int32_t partition,
                                                             const std::vector<event>& events) = 0;

  // A cursor on `partition` whose first event is the first at or after
  // offset `from` (0: the beginning; a checkpoint's offset + 1: what came
  // after it).
  [[nodiscard]] virtual result<std::unique_ptr<log_cursor>> open(std::int32_t partition,
                                                                 std::int64_t from) const = 0;

  // Before a writer reads its partition back after a failed append: finishes
  // what the failure left open (Kafka: retries a commit that timed out, so
  // that nothing else is written before it). errc::unavailable while it
  // cannot; the writer then refuses commands.
  [[nodiscard]] virtual status settle(std::int32_t /*partition*/) { return ok(); }

  // ok while appends can succeed as far as the log knows; otherwise why not
  // (errc::unavailable: a full disk, a cluster that is down). For /readyz.
  [[nodiscard]] virtual status writable() const { return ok(); }
};

}  // namespace tally::ports
