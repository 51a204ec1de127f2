// libFuzzer: CloudEvent decoding, what projectors and (in Kafka mode)
// consumers read from the log; a decoded event is encoded again and must
// decode to the same text.

#include "domain/event_codec.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace tally;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto e = decode_cloud_event(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!e) return 0;
  const auto text = encode_cloud_event(*e);
  auto again = decode_cloud_event(text);
  if (!again || encode_cloud_event(*again) != text) std::abort();  // not a fixed point
  return 0;
}
