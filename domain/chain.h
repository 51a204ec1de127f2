#pragma once

// The tenant's hash chain (docs/audit.md, issue #11): every event carries
// `prevhash`, the `hash` of the tenant's previous event in log order (64
// zeros for its first), and `hash`, the lowercase hex SHA-256 of the RFC 8785
// (JCS) form of the event exactly as GET /v1/events serves it, without its
// `position` and `hash` members. Anyone can recompute it.

#include "domain/error.h"
#include "domain/events.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tally {

inline constexpr std::string_view genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The hash of `e` (its prevhash set, its hash ignored).
[[nodiscard]] std::string chain_hash(const event& e);

// The same for an event about to be appended, with the check that keeps the
// log readable (ARCHITECTURE.md: the log never holds an event its own reader
// refuses): an event whose CloudEvent is not I-JSON (a string that is not
// UTF-8, an integer beyond 2^53-1) has no canonical form, so it has no hash
// and is never appended. The error names the value. Costs the append one
// pass of UTF-8 validation over the canonical text.
[[nodiscard]] result<std::string> hash_to_append(const event& e);

// Checks one tenant's events as served (JSON text, in log order), one at a
// time. The first that breaks the chain stops it: `failure` says why.
class chain_verifier {
 public:
  // False once the chain is broken (at this event or before).
  bool add(std::string_view served_json);
  // A record of the chain's log that cannot be read as an event, at
  // `position`: the chain breaks there (an auditor cannot check past it).
  void unreadable(std::string position, std::string_view reason);

  [[nodiscard]] std::int64_t events() const { return events_; }
  [[nodiscard]] const std::string& head() const { return head_; }
  [[nodiscard]] bool ok() const { return !failure_; }
  // The failing event's position attribute ("" if it had none) and why.
  [[nodiscard]] const std::optional<std::string>& failure() const { return failure_; }
  [[nodiscard]] const std::string& failed_position() const { return failed_position_; }

 private:
  bool fail(std::string position, std::string reason);
  std::string head_{genesis_hash};
  std::int64_t events_ = 0;
  std::optional<std::string> failure_;
  std::string failed_position_;
};

}  // namespace tally
