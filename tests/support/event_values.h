#pragma once

// Events of every type with extreme and hostile field values, for the
// property that the log's encoder and decoder agree (tests/domain/
// event_codec_test.cc) and its fuzz target (tests/fuzz/event_codec_fuzz.cc).
// Values are drawn by a Source (`std::uint64_t next()`): a seeded generator,
// or the fuzzer's bytes. Every member of every described type is visited by
// Boost.Describe, so a field added to an event is covered without a word
// here.

#include "base/json.h"
#include "domain/events.h"

#include <boost/describe.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tally::testing {

template <class Source>
class event_values {
 public:
  explicit event_values(Source& source, bool hostile) : src_(source), hostile_(hostile) {}

  // Whether a value that is not I-JSON was put in (a string that is not
  // UTF-8, an integer beyond 2^53-1): such an event must never be appended.
  [[nodiscard]] bool injected() const { return injected_; }

  // An event of the `index`-th type of event_data, with its envelope.
  event make_event(std::size_t index) {
    injected_ = false;
    event e;
    e.data = make_data(index);
    e.id = ids::event{pick_id()};
    e.tenant = ids::tenant{pick(tenants)};
    e.stream = stream_of(e.tenant, e.data);
    e.stream_version = version{1 + static_cast<std::int64_t>(src_.next() % 1'000'000)};
    e.time = make_time();
    e.actor = ids::user{make_text()};
    e.actor_name = src_.next() % 2 ? make_text() : std::string();
    e.correlation_id = pick_id();
    if (src_.next() % 2) {
      e.idempotency_key = pick_id();
      e.request_digest = std::string(64, 'a');
    }
    e.prevhash = std::string(64, '0');
    return e;
  }

  template <class T>
  void make(T& out) {
    if constexpr (json::is_optional<T>::value) {
      if (src_.next() % 3 == 0) {
        out.reset();
      } else {
        out.emplace();
        make(*out);
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      out = src_.next() % 2;
    } else if constexpr (std::is_integral_v<T>) {
      out = static_cast<T>(make_integer());
    } else if constexpr (json::int_wrapper<T>) {
      out.value = static_cast<decltype(out.value)>(make_integer());
    } else if constexpr (std::is_same_v<T, std::string>) {
      out = make_text();
    } else if constexpr (json::string_wrapper<T>) {
      out.value = pick_id();  // ids are made by the server or checked at the edge
    } else if constexpr (std::is_same_v<T, timestamp>) {
      out = make_time();
    } else if constexpr (std::is_enum_v<T>) {
      using names = boost::describe::describe_enumerators<T>;
      const std::size_t n = boost::mp11::mp_size<names>::value;
      std::size_t k = src_.next() % n, i = 0;
      boost::mp11::mp_for_each<names>([&](auto d) {
        if (i++ == k) out = d.value;
      });
    } else if constexpr (json::is_vector<T>::value) {
      out.resize(src_.next() % 4);
      for (auto& item : out) make(item);
    } else if constexpr (json::is_variant<T>::value) {
      make_variant(out);
    } else if constexpr (json::is_string_map<T>::value) {
      const auto n = src_.next() % 3;
      for (std::uint64_t i = 0; i < n; ++i) make(out[pick_id()]);
    } else {
      boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
          [&](auto d) { make(out.*d.pointer); });
    }
  }

 private:
  static constexpr std::array<std::string_view, 3> tenants{"acme", "t-1", "Globex.EU_2"};

  template <class V, std::size_t I = 0>
  void make_variant(V& out, std::size_t k = std::numeric_limits<std::size_t>::max()) {
    if (k == std::numeric_limits<std::size_t>::max()) k = src_.next() % std::variant_size_v<V>;
    if constexpr (I < std::variant_size_v<V>) {
      if (I == k) {
        std::variant_alternative_t<I, V> value{};
        make(value);
        out = std::move(value);
        return;
      }
      make_variant<V, I + 1>(out, k);
    }
  }

  template <std::size_t I = 0>
  event_data make_data(std::size_t index) {
    if constexpr (I < std::variant_size_v<event_data>) {
      if (I == index) {
        std::variant_alternative_t<I, event_data> d{};
        make(d);
        return d;
      }
      return make_data<I + 1>(index);
    } else {
      return {};
    }
  }

  template <class C>
  std::string pick(const C& pool) {
    return std::string(pool[src_.next() % pool.size()]);
  }

  std::string pick_id() {
    static constexpr std::array<std::string_view, 6> pool{
        "s1",
        "0d7f2c4e-8a1b-4c3d-9e5f-6a7b8c9d0e1f",
        "item-item-0",
        "a",
        "x_y.z",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAA"};
    return pick(pool);
  }

  // Text as clients send it, JSON's hard cases among it; hostile: bytes
  // that are not UTF-8.
  std::string make_text() {
    static constexpr std::array<std::string_view, 16> pool{
        "",
        "Ann",
        "\"quoted\" and \\backslashed\\",
        "tab\tnew line\ncarriage\rform\fback\b",
        std::string_view("nul\0inside", 10),
        "\x01\x1f\x7f",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",                          // Japanese
        "\xf0\x9f\x98\x80\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",  // emoji, ZWJ
        "e\xcc\x81 combining",                                           // é as e + U+0301
        "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",                              // Hebrew (right to left)
        "\xe2\x80\xa8\xe2\x80\xa9 line and paragraph separators",
        "\xef\xbb\xbf BOM, \xef\xbf\xbf noncharacter",
        "\xf4\x8f\xbf\xbf U+10FFFF",
        "</script><script>alert(1)</script>",
        "{\"json\":\"inside\"}",
        "2026-11-22T10:00:00.000Z",
    };
    static constexpr std::array<std::string_view, 5> not_utf8{
        "\xff\xfe",     "Caf\xe9",  // Latin-1
        "\xc3",                     // cut short
        "\xc0\xaf",                 // overlong '/'
        "\xed\xa0\x80",             // a surrogate, encoded
    };
    if (hostile_ && src_.next() % 16 == 0) {
      injected_ = true;
      return pick(not_utf8);
    }
    if (src_.next() % 8 == 0) return std::string(4000, 'x');
    return pick(pool);
  }

  std::int64_t make_integer() {
    constexpr std::int64_t safe = (std::int64_t{1} << 53) - 1;
    static constexpr std::array<std::int64_t, 10> pool{
        0, 1, -1, 5, 1'000'000, 1'000'000'000'000, -1'000'000'000'000, safe, -safe, 42};
    if (hostile_ && src_.next() % 16 == 0) {
      injected_ = true;
      static constexpr std::array<std::int64_t, 4> beyond{safe + 1, -(safe + 1),
                                                          std::numeric_limits<std::int64_t>::max(),
                                                          std::numeric_limits<std::int64_t>::min()};
      return beyond[src_.next() % beyond.size()];
    }
    return pool[src_.next() % pool.size()];
  }

  // Times from the epoch to the last millisecond RFC 3339 writes with four
  // digits of year.
  timestamp make_time() {
    static constexpr std::array<std::int64_t, 7> pool{
        0,                // 1970-01-01T00:00:00.000Z
        946'684'800'000,  // 2000-01-01
        1'795'000'000'123,
        4'102'444'799'999,    // 2099-12-31T23:59:59.999Z
        4'103'049'600'000,    // 2100-01-08, a week's appointment booked at the last minute
        253'402'300'799'999,  // 9999-12-31T23:59:59.999Z
        1,
    };
    return from_millis(pool[src_.next() % pool.size()]);
  }

  Source& src_;
  bool hostile_;
  bool injected_ = false;
};

}  // namespace tally::testing
