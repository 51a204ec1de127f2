#include "gateway/compression.h"

#include <zlib.h>

#include <strings.h>
#include <algorithm>
#include <cctype>
#include <charconv>

namespace tally::gateway {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The q-value of one list member's parameters ("q=0.5"); 1 without one.
double quality(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    auto p = trim(params.substr(0, semi));
    if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      p.remove_prefix(2);
      double q = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), q);
      return ec == std::errc{} && end == p.data() + p.size() ? q : 0;
    }
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return 1;
}

}  // namespace

bool accepts_gzip(std::string_view value) {
  std::optional<double> gzip_q, any_q;
  while (!value.empty()) {
    const auto comma = value.find(',');
    auto item = trim(value.substr(0, comma));
    const auto semi = item.find(';');
    const auto coding = trim(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1 : quality(item.substr(semi + 1));
    if (iequal(coding, "gzip") || iequal(coding, "x-gzip"))
      gzip_q = q;
    else if (coding == "*")
      any_q = q;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  if (gzip_q) return *gzip_q > 0;
  return any_q && *any_q > 0;
}

std::optional<std::string> gzip(std::string_view data) {
  z_stream z{};
  // 15 window bits + 16: a gzip header and trailer; level 1, as nginx's
  // default: JSON shrinks almost as much as at 6 for a fraction of the CPU.
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const auto written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(written);
  return out;
}

void encode_response(std::string_view accept_encoding, http_response& r) {
  if (r.body.empty() && r.status != 304) return;
  auto vary = std::find_if(r.headers.begin(), r.headers.end(),
                           [](const auto& h) { return iequal(h.first, "Vary"); });
  if (vary == r.headers.end())
    r.headers.emplace_back("Vary", "Accept-Encoding");
  else if (vary->second.find("Accept-Encoding") == std::string::npos)
    vary->second += ", Accept-Encoding";
  if (r.body.size() < gzip_threshold || !accepts_gzip(accept_encoding)) return;
  if (std::any_of(r.headers.begin(), r.headers.end(),
                  [](const auto& h) { return iequal(h.first, "Content-Encoding"); }))
    return;
  if (r.body.size() > 0xffffffffu) return;
  auto packed = gzip(r.body);
  if (!packed) return;
  r.body = std::move(*packed);
  r.headers.emplace_back("Content-Encoding", "gzip");
}

}  // namespace tally::gateway
