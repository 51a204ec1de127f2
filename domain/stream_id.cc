#include "domain/stream_id.h"

#include <array>
#include <utility>

namespace tally {

namespace {
constexpr std::array<std::pair<stream_kind, std::string_view>, 7> kinds{{
    {stream_kind::tenant, "tenant"},
    {stream_kind::customer, "customer"},
    {stream_kind::resource, "resource"},
    {stream_kind::item, "item"},
    {stream_kind::session, "session"},
    {stream_kind::invoice, "invoice"},
    {stream_kind::webhook, "webhook"},
}};

template <class Id>
constexpr stream_kind kind_for() {
  if constexpr (std::is_same_v<Id, ids::session>) return stream_kind::session;
  if constexpr (std::is_same_v<Id, ids::customer>) return stream_kind::customer;
  if constexpr (std::is_same_v<Id, ids::item>) return stream_kind::item;
  if constexpr (std::is_same_v<Id, ids::invoice>) return stream_kind::invoice;
}
}  // namespace

std::string_view name_of(stream_kind kind) {
  for (const auto& [k, name] : kinds)
    if (k == kind) return name;
  return "unknown";
}

std::optional<stream_id> stream_id::parse(std::string_view text) {
  // Any id, even an empty one, reads back: whatever str() writes, parse
  // reads (tests/domain/event_codec_test.cc).
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto name = text.substr(0, dash);
  for (const auto& [k, n] : kinds)
    if (n == name) return stream_id{k, std::string(text.substr(dash + 1))};
  return std::nullopt;
}

std::string stream_id::str() const {
  const auto name = name_of(kind_);
  std::string out;
  out.reserve(name.size() + 1 + id_.size());
  out.append(name).append(1, '-').append(id_);
  return out;
}

std::string stream_id::subject() const {
  const auto name = name_of(kind_);
  std::string out;
  out.reserve(name.size() + 2 + id_.size());
  out.append(name).append("s/").append(id_);
  return out;
}

std::string stream_id::aggregate_key() const {
  return kind_ == stream_kind::tenant ? std::string("tenant") : str();
}

template <class Id>
std::optional<Id> stream_id::as() const {
  if (kind_ != kind_for<Id>()) return std::nullopt;
  return Id{id_};
}

template std::optional<ids::session> stream_id::as<ids::session>() const;
template std::optional<ids::customer> stream_id::as<ids::customer>() const;
template std::optional<ids::item> stream_id::as<ids::item>() const;
template std::optional<ids::invoice> stream_id::as<ids::invoice>() const;

}  // namespace tally
