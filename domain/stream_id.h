#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ids.h"

namespace tally {

// The kinds of stream an event can be in: one per aggregate kind.
enum class stream_kind : std::uint8_t {
  tenant,
  customer,
  resource,
  item,
  session,
  invoice,
  webhook
};

// "tenant", "customer", ...: the kind's name as it is written in a stream id.
std::string_view name_of(stream_kind kind);

// The stream an event belongs to: its aggregate's kind and id. Written as
// "<kind>-<id>" ("session-s1", "item-tea"), the form the log and the events
// on the wire carry (API.md's `stream`); built and read only here, so that no
// other file parses a prefix.
class stream_id {
 public:
  stream_id() = default;
  stream_id(stream_kind kind, std::string id) : kind_(kind), id_(std::move(id)) {}

  static stream_id of(const ids::tenant& t) { return {stream_kind::tenant, t.value}; }
  static stream_id of(const ids::customer& c) { return {stream_kind::customer, c.value}; }
  static stream_id of(const ids::resource& r) { return {stream_kind::resource, r.value}; }
  static stream_id of(const ids::item& i) { return {stream_kind::item, i.value}; }
  static stream_id of(const ids::session& s) { return {stream_kind::session, s.value}; }
  static stream_id of(const ids::invoice& i) { return {stream_kind::invoice, i.value}; }
  static stream_id of(const ids::webhook& w) { return {stream_kind::webhook, w.value}; }

  // "session-s1" → {session, "s1"}; nothing for a text that names no kind.
  // The id may itself hold dashes ("item-item-0"), or be empty.
  static std::optional<stream_id> parse(std::string_view text);

  [[nodiscard]] stream_kind kind() const { return kind_; }
  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] bool is(stream_kind k) const { return kind_ == k; }

  // The id, typed, when the stream is of that kind.
  [[nodiscard]] std::optional<ids::session> session() const { return as<ids::session>(); }
  [[nodiscard]] std::optional<ids::customer> customer() const { return as<ids::customer>(); }
  [[nodiscard]] std::optional<ids::item> item() const { return as<ids::item>(); }
  [[nodiscard]] std::optional<ids::invoice> invoice() const { return as<ids::invoice>(); }

  // "session-s1".
  [[nodiscard]] std::string str() const;
  // The CloudEvents subject: "sessions/s1".
  [[nodiscard]] std::string subject() const;
  // The key of the stream's aggregate in the write model and the read
  // models: the stream id itself, but one "tenant" aggregate per tenant.
  [[nodiscard]] std::string aggregate_key() const;

  friend auto operator<=>(const stream_id&, const stream_id&) = default;
  friend bool operator==(const stream_id&, const stream_id&) = default;

 private:
  template <class Id>
  [[nodiscard]] std::optional<Id> as() const;

  stream_kind kind_ = stream_kind::tenant;
  std::string id_;
};

}  // namespace tally
