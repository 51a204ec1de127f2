#include "base/jcs.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace tally {

namespace {

// UTF-8 to UTF-16 code units, for ordering member names as RFC 8785 3.2.3 asks.
std::u16string utf16(std::string_view s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = c;
    std::size_t n = 1;
    if (c >= 0xf0 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3fu) << 6) |
           (static_cast<unsigned char>(s[i + 3]) & 0x3fu);
      n = 4;
    } else if (c >= 0xe0 && i + 2 < s.size()) {
      cp = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
      n = 3;
    } else if (c >= 0xc0 && i + 1 < s.size()) {
      cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      n = 2;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xd800 + (cp >> 10));
      out += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
    } else {
      out += static_cast<char16_t>(cp);
    }
    i += n;
  }
  return out;
}

void string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;  // start of the characters copied as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        static constexpr char digits[] = "0123456789abcdef";
        out += "\\u00";
        out += digits[c >> 4];
        out += digits[c & 0xf];
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// ECMAScript's Number::toString (ECMA-262 7.1.12.1) of a finite double: the
// shortest digits that read back as the same double, in plain notation for
// exponents from -6 to 20, else d.ddde±x.
void number(std::string& out, double v) {
  if (v == 0) {
    out += '0';  // also -0
    return;
  }
  if (v < 0) {
    out += '-';
    v = -v;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  (void)ec;
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const auto e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits += c;
  const int exp10 = std::stoi(std::string(sci.substr(e + 1)));  // v = d.ddd * 10^exp10
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // ECMA's n: v = 0.digits * 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
}

// Set by write() when it met an integer that a double does not hold exactly.
thread_local bool inexact_integer = false;

void write(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64: {
      const auto i = v.get_int64();
      // Beyond 2^53 a JSON number is a double to ECMAScript.
      if (i >= (std::int64_t{1} << 53) || i <= -(std::int64_t{1} << 53)) {
        inexact_integer = true;
        number(out, static_cast<double>(i));
      } else {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
        (void)ec;
        out.append(buf, end);
      }
      break;
    }
    case boost::json::kind::uint64: {
      const auto u = v.get_uint64();
      if (u >= (std::uint64_t{1} << 53)) {
        inexact_integer = true;
        number(out, static_cast<double>(u));
      } else
        out += std::to_string(u);
      break;
    }
    case boost::json::kind::double_:
      number(out, v.get_double());
      break;
    case boost::json::kind::string:
      string(out, v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(out, item);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      // ASCII names (all of Tally's) sort bytewise, which is their UTF-16
      // order; only other names pay for the conversion.
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(o.size());
      bool ascii = true;
      for (const auto& kv : o) {
        members.push_back(&kv);
        for (char c : kv.key()) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
      }
      if (ascii)
        std::sort(members.begin(), members.end(),
                  [](const auto* a, const auto* b) { return a->key() < b->key(); });
      else
        std::sort(members.begin(), members.end(),
                  [](const auto* a, const auto* b) { return utf16(a->key()) < utf16(b->key()); });
      out += '{';
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ',';
        first = false;
        string(out, kv->key());
        out += ':';
        write(out, kv->value());
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string canonical_json(const boost::json::value& v) {
  std::string out;
  out.reserve(1024);
  write(out, v);
  return out;
}

namespace {

constexpr std::int64_t max_exact = (std::int64_t{1} << 53) - 1;

bool utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// The first value of `v` that is not I-JSON, by its path under `path`.
std::string first_problem(const boost::json::value& v, const std::string& path) {
  const auto at = [&](std::string_view what) {
    return (path.empty() ? std::string("(the value)") : path) + ": " + std::string(what);
  };
  switch (v.kind()) {
    case boost::json::kind::int64:
      if (v.get_int64() > max_exact || v.get_int64() < -max_exact)
        return at("is an integer beyond 2^53-1");
      return "";
    case boost::json::kind::uint64:
      return v.get_uint64() > static_cast<std::uint64_t>(max_exact)
                 ? at("is an integer beyond 2^53-1")
                 : "";
    case boost::json::kind::double_:
      return std::isfinite(v.get_double()) ? "" : at("is not a finite number");
    case boost::json::kind::string:
      return utf8(v.get_string()) ? "" : at("is not valid UTF-8");
    case boost::json::kind::array: {
      std::size_t i = 0;
      for (const auto& item : v.get_array()) {
        auto p = first_problem(item, path + "[" + std::to_string(i++) + "]");
        if (!p.empty()) return p;
      }
      return "";
    }
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        const std::string name(kv.key());
        if (!utf8(name)) return at("has a member name that is not valid UTF-8");
        auto p = first_problem(kv.value(), path.empty() ? name : path + "." + name);
        if (!p.empty()) return p;
      }
      return "";
    default:
      return "";
  }
}

}  // namespace

std::optional<std::string> canonical_i_json(const boost::json::value& v, std::string& problem) {
  inexact_integer = false;
  std::string text = canonical_json(v);
  if (!inexact_integer && utf8(text)) return text;
  problem = first_problem(v, "");
  if (problem.empty()) problem = "(the value): is not I-JSON";
  return std::nullopt;
}

}  // namespace tally
