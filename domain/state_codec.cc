#include "domain/state_codec.h"

#include "base/json.h"

namespace tally {

namespace {
template <class T>
std::optional<aggregate> decode_as(std::string_view json) {
  auto v = json::read_own<T>(json);
  if (!v) return std::nullopt;
  return aggregate{std::move(*v)};
}
}  // namespace

std::optional<aggregate> decode_aggregate(std::string_view key, std::string_view json) {
  if (key == keys::tenant) return decode_as<tenant_state>(json);
  // The two keys that are indexes, not streams.
  if (key.starts_with("email-")) return decode_as<email_index_state>(json);
  if (key.starts_with("reservation-")) return decode_as<reservation_state>(json);
  const auto stream = stream_id::parse(key);
  if (!stream) return std::nullopt;
  switch (stream->kind()) {
    case stream_kind::customer:
      return decode_as<customer_state>(json);
    case stream_kind::resource:
      return decode_as<resource_state>(json);
    case stream_kind::item:
      return decode_as<item_state>(json);
    case stream_kind::session:
      return decode_as<session_state>(json);
    case stream_kind::invoice:
      return decode_as<invoice_state>(json);
    case stream_kind::webhook:
      return decode_as<webhook_state>(json);
    case stream_kind::tenant:
      break;  // the tenant's aggregate is keys::tenant
  }
  return std::nullopt;
}

std::string encode_aggregate(const aggregate& a) {
  return std::visit([](const auto& v) { return json::write(v); }, a);
}

version version_of(const aggregate* a) {
  if (!a) return {};
  return std::visit(
      [](const auto& s) -> version {
        if constexpr (requires { s.version; })
          return s.version;
        else
          return {};
      },
      *a);
}

}  // namespace tally
