#pragma once

// JSON for every type described with Boost.Describe.
//
// Reading is strict where the input comes from a client: every field is
// visited; unknown, duplicate, missing and mistyped fields are reported by
// their path ("lines[2].quantity"), never thrown, and integers lie within
// ±(2^53-1), which every client holds exactly. Reading is lenient where the
// input is Tally's own (events, stored read models): unknown fields are
// skipped, so that a newer schema never breaks an older reader, and an
// integer is read over the whole range of its type, so that whatever Tally
// wrote reads back (a read-side sum past 2^53 is still a number it wrote).
//
// Types take part by shape:
//  - described structs (BOOST_DESCRIBE_STRUCT) and enums (BOOST_DESCRIBE_ENUM,
//    written as their enumerator names);
//  - strong ids: a struct with `using string_wrapper = void;` and a
//    `std::string value` member, written as a JSON string;
//  - strong integers: `using int_wrapper = void;` and an integral `value`;
//  - std::string, bool, integers, tally::timestamp (RFC 3339), std::optional
//    (absent or null), std::vector, std::map<std::string, T>, json::raw;
//  - std::variant of alternatives that JSON tells apart by kind (a string or
//    an array, say): the first alternative of the value's kind is read.

#include "base/patch.h"
#include "base/time.h"

#include <simdjson.h>
#include <boost/describe.hpp>
#include <boost/json.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace tally::json {

struct field_error {
  std::string field;
  std::string message;
  friend bool operator==(const field_error&, const field_error&) = default;
};

// Already-serialised JSON, embedded as is when writing.
struct raw {
  std::string text;
};

enum class mode { strict, lenient };

// The largest integer a JSON number may carry without loss in every client.
inline constexpr std::int64_t max_safe_integer = (std::int64_t{1} << 53) - 1;

template <class T>
concept string_wrapper = requires(T t) {
  typename T::string_wrapper;
  { t.value } -> std::convertible_to<std::string>;
};
template <class T>
concept int_wrapper = requires(T t) {
  typename T::int_wrapper;
  t.value;
};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_variant : std::false_type {};
template <class... A>
struct is_variant<std::variant<A...>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class T>
struct is_string_map<std::map<std::string, T>> : std::true_type {};

template <class T>
constexpr const char* kind_name() {
  if constexpr (std::is_same_v<T, bool>)
    return "a boolean";
  else if constexpr (std::is_integral_v<T> || int_wrapper<T>)
    return "an integer";
  else if constexpr (std::is_same_v<T, timestamp>)
    return "an RFC 3339 time";
  else if constexpr (std::is_same_v<T, std::string> || string_wrapper<T>)
    return "a string";
  else if constexpr (std::is_enum_v<T>)
    return "one of the allowed strings";
  else if constexpr (is_vector<T>::value)
    return "an array";
  else
    return "an object";
}

std::string join_path(std::string_view base, std::string_view field);

// The JSON name of a described member: its C++ name less one trailing '_', so
// that a field may be called `private` (member `private_`).
constexpr std::string_view field_name(const char* member) {
  std::string_view n(member);
  if (!n.empty() && n.back() == '_') n.remove_suffix(1);
  return n;
}
std::string index_path(std::string_view base, std::size_t index);

class reader {
 public:
  explicit reader(mode m) : mode_(m) {}

  [[nodiscard]] std::vector<field_error>& errors() { return errors_; }

  template <class T>
  void read(simdjson::dom::element e, T& out, const std::string& path) {
    using simdjson::dom::element_type;
    if constexpr (is_patch<T>::value) {
      out.present = true;
      if (e.is_null()) {
        out.value.reset();
        return;
      }
      out.value.emplace();
      read(e, *out.value, path);
    } else if constexpr (is_optional<T>::value) {
      if (e.is_null()) {
        out.reset();
        return;
      }
      out.emplace();
      read(e, *out, path);
    } else if constexpr (std::is_same_v<T, raw>) {
      out.text = simdjson::minify(e);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!e.is_bool()) return fail<T>(path);
      out = e.get_bool().value_unsafe();
    } else if constexpr (std::is_integral_v<T>) {
      read_integer(e, out, path);
    } else if constexpr (int_wrapper<T>) {
      read_integer(e, out.value, path);
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!e.is_string()) return fail<T>(path);
      out = std::string(e.get_string().value_unsafe());
      refuse_nul(out, path);
    } else if constexpr (string_wrapper<T>) {
      if (!e.is_string()) return fail<T>(path);
      out.value = std::string(e.get_string().value_unsafe());
      refuse_nul(out.value, path);
    } else if constexpr (std::is_same_v<T, timestamp>) {
      std::optional<timestamp> t;
      if (e.is_string()) t = parse_rfc3339(e.get_string().value_unsafe());
      if (!t) return fail<T>(path);
      out = *t;
    } else if constexpr (std::is_enum_v<T>) {
      if (!e.is_string()) return fail<T>(path);
      const std::string s(e.get_string().value_unsafe());
      if (!boost::describe::enum_from_string(s.c_str(), out)) {
        std::string allowed;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
          allowed += allowed.empty() ? "" : ", ";
          allowed += d.name;
        });
        errors_.push_back({path, "must be one of: " + allowed});
      }
    } else if constexpr (is_vector<T>::value) {
      if (!e.is_array()) return fail<T>(path);
      out.clear();
      std::size_t i = 0;
      const simdjson::dom::array array = e.get_array().value_unsafe();
      using V = typename T::value_type;
      for (simdjson::dom::element item : array) {
        out.emplace_back();
        // Integers in range take no path: it is made only to name an error
        // (a day's customer numbers hold thousands).
        if constexpr (std::is_same_v<V, std::int64_t>) {
          if (item.is_int64()) {
            const std::int64_t v = item.get_int64().value_unsafe();
            if (mode_ == mode::lenient || (v <= max_safe_integer && v >= -max_safe_integer)) {
              out.back() = v;
              ++i;
              continue;
            }
          }
        }
        read(item, out.back(), index_path(path, i++));
      }
    } else if constexpr (is_variant<T>::value) {
      read_variant(e, out, path);
    } else if constexpr (is_string_map<T>::value) {
      if (!e.is_object()) return fail<T>(path);
      out.clear();
      const simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto [key, value] : object) {
        read(value, out[std::string(key)], join_path(path, key));
      }
    } else {
      static_assert(boost::describe::has_describe_members<T>::value,
                    "tally::json cannot read this type: describe it");
      read_object(e, out, path);
    }
  }

 private:
  // A NUL in a name or a note truncates it in C strings, logs and terminals
  // downstream: requests may not carry one (what Tally wrote itself is read as is).
  void refuse_nul(const std::string& value, const std::string& path) {
    if (mode_ == mode::strict && value.find('\0') != std::string::npos)
      errors_.push_back({path, "must not contain NUL (\\u0000)"});
  }

  // Whether a JSON value of e's kind is read as a T.
  template <class T>
  static bool fits(simdjson::dom::element e) {
    if constexpr (std::is_same_v<T, bool>)
      return e.is_bool();
    else if constexpr (std::is_integral_v<T> || int_wrapper<T>)
      return e.is_number();
    else if constexpr (std::is_same_v<T, std::string> || string_wrapper<T> ||
                       std::is_same_v<T, timestamp> || std::is_enum_v<T>)
      return e.is_string();
    else if constexpr (is_vector<T>::value)
      return e.is_array();
    else
      return e.is_object();
  }

  template <class... A>
  void read_variant(simdjson::dom::element e, std::variant<A...>& out, const std::string& path) {
    bool done = false;
    (
        [&] {
          if (done || !fits<A>(e)) return;
          done = true;
          A value{};
          read(e, value, path);
          out = std::move(value);
        }(),
        ...);
    if (!done) {
      std::string kinds;
      ((kinds += (kinds.empty() ? "" : " or ") + std::string(kind_name<A>())), ...);
      errors_.push_back({path, "must be " + kinds});
    }
  }

  template <class T>
  void fail(const std::string& path) {
    errors_.push_back({path, std::string("must be ") + kind_name<T>()});
  }

  template <class I>
  void read_integer(simdjson::dom::element e, I& out, const std::string& path) {
    std::int64_t v = 0;
    if (e.is_int64()) {
      v = e.get_int64().value_unsafe();
    } else if (e.is_uint64() || e.is_double()) {
      // A number, but not an integer within range.
      if (e.is_double()) {
        const double d = e.get_double().value_unsafe();
        // Range first: converting a double beyond int64 is undefined
        // behaviour (found by the CloudEvent fuzzer).
        if (!(d > -9.2e18 && d < 9.2e18) || d != std::trunc(d)) {
          errors_.push_back({path, "must be an integer"});
          return;
        }
      }
      errors_.push_back({path, "must be an integer between -(2^53-1) and 2^53-1"});
      return;
    } else {
      errors_.push_back({path, "must be an integer"});
      return;
    }
    if ((mode_ == mode::strict && (v > max_safe_integer || v < -max_safe_integer)) ||
        v > static_cast<std::int64_t>(std::numeric_limits<I>::max()) ||
        v < static_cast<std::int64_t>(std::numeric_limits<I>::min())) {
      errors_.push_back({path, "is out of range"});
      return;
    }
    out = static_cast<I>(v);
  }

  template <class T>
  void read_object(simdjson::dom::element e, T& out, const std::string& path) {
    using members = boost::describe::describe_members<T, boost::describe::mod_public>;
    constexpr std::size_t n = boost::mp11::mp_size<members>::value;
    if (!e.is_object()) {
      errors_.push_back({path.empty() ? std::string("body") : path, "must be an object"});
      return;
    }
    bool seen[n + 1] = {};
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (auto member : object) {
      // Not a structured binding: clang 14 cannot capture one in a lambda.
      const std::string_view key = member.key;
      const simdjson::dom::element value = member.value;
      bool known = false;
      std::size_t index = 0;
      boost::mp11::mp_for_each<members>([&](auto d) {
        if (!known && key == field_name(d.name)) {
          known = true;
          const std::string field = join_path(path, key);
          if (seen[index]) {
            errors_.push_back({field, "appears more than once"});
          } else {
            seen[index] = true;
            read(value, out.*d.pointer, field);
          }
        }
        if (!known) ++index;
      });
      if (!known && mode_ == mode::strict) {
        errors_.push_back({join_path(path, key), "is not a known field"});
      }
    }
    std::size_t index = 0;
    boost::mp11::mp_for_each<members>([&](auto d) {
      using member_t = std::remove_cvref_t<decltype(out.*d.pointer)>;
      if (!seen[index] && !is_optional<member_t>::value && !is_patch<member_t>::value &&
          mode_ == mode::strict) {
        errors_.push_back({join_path(path, field_name(d.name)), "is required"});
      }
      ++index;
    });
  }

  mode mode_;
  std::vector<field_error> errors_;
};

// Parses `text` into `out`. On failure the returned list names every bad
// field; a text that is not JSON gives one error with field "body".
template <class T>
[[nodiscard]] std::vector<field_error> parse(std::string_view text, T& out, mode m = mode::strict) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return {{"body", std::string("is not valid JSON: ") + simdjson::error_message(err)}};
  }
  reader r(m);
  r.read(root, out, "");
  return std::move(r.errors());
}

// ---- writing ------------------------------------------------------------

template <class T>
boost::json::value to_value(const T& v) {
  if constexpr (is_patch<T>::value) {
    if (!v.value) return nullptr;
    return to_value(*v.value);
  } else if constexpr (is_optional<T>::value) {
    if (!v) return nullptr;
    return to_value(*v);
  } else if constexpr (std::is_same_v<T, raw>) {
    return boost::json::parse(v.text);
  } else if constexpr (std::is_same_v<T, bool>) {
    return v;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<std::int64_t>(v);
  } else if constexpr (int_wrapper<T>) {
    return static_cast<std::int64_t>(v.value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return boost::json::string(v);
  } else if constexpr (string_wrapper<T>) {
    return boost::json::string(v.value);
  } else if constexpr (std::is_same_v<T, timestamp>) {
    return boost::json::string(format_rfc3339(v));
  } else if constexpr (std::is_enum_v<T>) {
    const char* name = boost::describe::enum_to_string(v, nullptr);
    return name ? boost::json::value(boost::json::string(name)) : boost::json::value(nullptr);
  } else if constexpr (is_vector<T>::value) {
    boost::json::array a;
    a.reserve(v.size());
    for (const auto& item : v) a.push_back(to_value(item));
    return a;
  } else if constexpr (is_variant<T>::value) {
    return std::visit([](const auto& alt) { return to_value(alt); }, v);
  } else if constexpr (is_string_map<T>::value) {
    boost::json::object o;
    for (const auto& [key, item] : v) o[key] = to_value(item);
    return o;
  } else {
    static_assert(boost::describe::has_describe_members<T>::value,
                  "tally::json cannot write this type: describe it");
    boost::json::object o;
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
        [&](auto d) { o[field_name(d.name)] = to_value(v.*d.pointer); });
    return o;
  }
}

template <class T>
std::string write(const T& v) {
  return boost::json::serialize(to_value(v));
}

// Reads Tally's own JSON (lenient); returns std::nullopt if it does not fit T.
template <class T>
std::optional<T> read_own(std::string_view text) {
  T out{};
  if (!parse(text, out, mode::lenient).empty()) return std::nullopt;
  return out;
}

}  // namespace tally::json
