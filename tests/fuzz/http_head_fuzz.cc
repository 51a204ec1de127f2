// libFuzzer: a request as the gateway reads it: Beast's parser with the
// server's limits (64 KiB of headers, 1 MiB of body), then the framing rules
// (gateway/http_framing.h) over what it parsed.

#include "gateway/http_framing.h"

#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < size && !ec && !parser.is_done()) {
    const auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (n == 0 && !ec) break;
    used += n;
  }
  if (!parser.is_header_done()) return 0;
  const auto& req = parser.get();
  tally::gateway::header_list headers;
  for (const auto& f : req)
    headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  (void)tally::gateway::framing_problem(req.version(), headers);
  return 0;
}
