// libFuzzer: the log's encoder and decoder agree (issue #27). The fuzzer's
// bytes choose an event type and every field's value among extreme and
// hostile ones (tests/support/event_values.h); an event hash_to_append
// takes must read back to the same text and hash, and one it refuses is
// exactly one with a value that is not I-JSON (so it never reaches the log).

#include "domain/chain.h"
#include "domain/event_codec.h"
#include "support/event_values.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace tally;

namespace {
// Eight bytes a value, zeros once the input is spent.
struct bytes {
  const std::uint8_t* data;
  std::size_t size;
  std::uint64_t next() {
    std::uint64_t v = 0;
    const std::size_t n = size < sizeof v ? size : sizeof v;
    std::memcpy(&v, data, n);
    data += n;
    size -= n;
    return v;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  bytes source{data + 1, size - 1};
  tally::testing::event_values<bytes> values(source, (data[0] & 0x80) != 0);
  event e = values.make_event(data[0] % std::variant_size_v<event_data>);
  auto hash = hash_to_append(e);
  if (!hash != values.injected()) std::abort();  // refused exactly the hostile
  if (!hash) return 0;
  e.hash = *hash;
  const std::string text = encode_cloud_event(e);
  auto back = decode_cloud_event(text);
  if (!back || encode_cloud_event(*back) != text || chain_hash(*back) != e.hash) std::abort();
  return 0;
}
