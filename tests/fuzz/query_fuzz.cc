// libFuzzer: what a request target carries besides the path: position tokens
// (Tally-Min-Position, ?min_position=, a stream's `after`), the origin-form
// target and its query parameters as the gateway splits them (Boost.URL),
// and RFC 3339 times (?from=, ?to=, scheduled_start).

#include "base/time.h"
#include "infra/ports/event_log.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace tally;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto p = ports::position::parse(text)) {
    // A token this server gives round-trips.
    auto again = ports::position::parse(p->token());
    if (!again || *again != *p) std::abort();
  }
  if (auto t = parse_rfc3339(text)) (void)format_rfc3339(*t);
  if (auto url = boost::urls::parse_origin_form(text)) {
    std::string path(url->path());
    for (auto seg : url->segments()) path += seg;
    for (auto param : url->params()) {
      std::string k = param.key, v = param.value;
      (void)ports::position::parse(v);
      (void)parse_rfc3339(v);
    }
  }
  return 0;
}
