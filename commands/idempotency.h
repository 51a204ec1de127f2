#pragma once

// What a decider keeps of an answer given to a command sent with an
// Idempotency-Key (API.md, Idempotency), in its store: private to the
// deciders (decider.cc, decider_replay.cc).

#include "base/time.h"
#include "domain/ids.h"

#include <fmt/format.h>
#include <boost/describe.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace tally::commands {

inline constexpr std::chrono::hours idempotency_ttl{24};

struct idempotency_record {
  std::string request_digest;
  std::string body;
  std::string position;
  std::int64_t version = 0;
  std::int64_t stored_at_ms = 0;
};
BOOST_DESCRIBE_STRUCT(idempotency_record, (),
                      (request_digest, body, position, version, stored_at_ms))

// Keys are the caller's (API.md): tenant and token `sub`, so that two callers
// never see each other's answers. The sub is length-prefixed because both it
// and the key may hold any character.
inline std::string idempotency_key(const ids::tenant& t, const ids::user& caller,
                                   const std::string& key) {
  return fmt::format("i/{}/{}:{}/{}", t.value, caller.value.size(), caller.value, key);
}

inline std::int64_t millis_of(timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace tally::commands
