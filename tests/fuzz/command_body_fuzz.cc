// libFuzzer: a request body read into a command, as the gateway reads it
// (base/json, strict: unknown, duplicate, missing and mistyped fields), then
// validated and decided against a small state. The first byte picks the
// command type; the rest is the body.

#include "domain/decide.h"
#include "domain/evolve.h"

#include "base/json.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace tally;

namespace {

template <std::size_t I = 0>
void read_as(std::size_t index, std::string_view body) {
  if constexpr (I < std::variant_size_v<command>) {
    if (index != I) return read_as<I + 1>(index, body);
    std::variant_alternative_t<I, command> cmd{};
    if (!json::parse(body, cmd).empty()) return;
    command c = std::move(cmd);
    (void)validate(c);
    static memory_state state = [] {
      memory_state s;
      event e;
      e.tenant = ids::tenant{"acme"};
      e.data = customer_registered{ids::customer{"c1"}, "Ann", {}, {}, false};
      e.stream = stream_of(e.tenant, e.data);
      evolve(s, e);
      e.data = item_registered{ids::item{"mug"}, "Mug", "pcs", 1200, "B3"};
      e.stream = stream_of(e.tenant, e.data);
      evolve(s, e);
      return s;
    }();
    int n = 0;
    decide_context ctx{ids::tenant{"acme"},
                       ids::user{"u"},
                       std::string("U"),
                       true,
                       from_millis(1'800'000'000'000),
                       [&n] { return "id-" + std::to_string(++n); }};
    (void)decide(c, state, ctx);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t index = data[0] % std::variant_size_v<command>;
  read_as(index, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
