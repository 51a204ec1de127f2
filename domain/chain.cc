#include "domain/chain.h"

#include "base/digest.h"
#include "base/jcs.h"
#include "domain/event_codec.h"

#include <boost/json.hpp>

namespace tally {

std::string chain_hash(const event& e) {
  boost::json::value v(cloud_event_object(e));  // moved in, not copied
  v.as_object().erase("hash");
  return sha256_hex(canonical_json(v));
}

result<std::string> hash_to_append(const event& e) {
  boost::json::value v(cloud_event_object(e));
  v.as_object().erase("hash");
  std::string problem;
  auto text = canonical_i_json(v, problem);
  if (!text)
    return make_error(errc::internal, "the event " + std::string(type_of(e.data)) +
                                          " would not read back (" + problem + ")");
  return sha256_hex(*text);
}

bool chain_verifier::fail(std::string position, std::string reason) {
  failure_ = std::move(reason);
  failed_position_ = std::move(position);
  return false;
}

void chain_verifier::unreadable(std::string position, std::string_view reason) {
  if (failure_) return;
  ++events_;
  fail(std::move(position), "an event that cannot be read: " + std::string(reason));
}

bool chain_verifier::add(std::string_view served_json) {
  if (failure_) return false;
  boost::system::error_code ec;
  auto v = boost::json::parse(served_json, ec);
  if (ec || !v.is_object()) return fail("", "an event is not a JSON object");
  auto& o = v.as_object();
  std::string position;
  if (const auto* p = o.if_contains("position"); p && p->is_string())
    position = std::string(p->as_string());
  const auto* hash = o.if_contains("hash");
  const auto* prev = o.if_contains("prevhash");
  if (!hash || !hash->is_string() || !prev || !prev->is_string())
    return fail(position, "the event has no hash or prevhash");
  const std::string claimed(hash->as_string());
  if (std::string_view(prev->as_string()) != head_)
    return fail(position,
                "prevhash is not the hash of the tenant's previous event (an event "
                "before it was removed, added or moved)");
  o.erase("position");
  o.erase("hash");
  if (sha256_hex(canonical_json(v)) != claimed)
    return fail(position, "the hash does not match the event (it was changed)");
  head_ = claimed;
  ++events_;
  return true;
}

}  // namespace tally
