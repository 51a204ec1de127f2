// Content coding (RFC 9110 12.5.3): which Accept-Encoding values take gzip,
// and what encode_response does to an answer.

#include "gateway/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>

namespace tally::gateway {
namespace {

std::string header(const http_response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

std::string gunzip(const std::string& data) {
  std::string out(1 << 20, '\0');
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "not gzip";
}

TEST(compression, accept_encoding_is_read_with_its_q_values) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("identity, *;q=0.1"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *"));  // named refusal wins over *
  EXPECT_FALSE(accepts_gzip("gzip;q=nonsense"));
}

TEST(compression, large_answers_are_gzipped_small_and_encoded_ones_are_left) {
  std::string body = "[";
  for (int i = 0; i < 200; ++i) body += R"({"customer_id":"c)" + std::to_string(i) + R"("},)";
  body += "{}]";
  http_response big;
  big.body = body;
  big.headers.emplace_back("Vary", "Origin");
  encode_response("gzip", big);
  EXPECT_EQ(header(big, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(big, "Vary"), "Origin, Accept-Encoding");
  EXPECT_LT(big.body.size(), body.size() / 3);
  EXPECT_EQ(gunzip(big.body), body);

  http_response plain;
  plain.body = body;
  encode_response("", plain);
  EXPECT_EQ(plain.body, body);
  EXPECT_EQ(header(plain, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header(plain, "Content-Encoding"), "");

  http_response small;
  small.body = std::string(gzip_threshold - 1, 'x');
  encode_response("gzip", small);
  EXPECT_EQ(small.body.size(), gzip_threshold - 1);

  http_response relayed;  // from another process: compressed already
  relayed.body = body;
  relayed.headers.emplace_back("content-encoding", "gzip");
  encode_response("gzip", relayed);
  EXPECT_EQ(relayed.body, body);
  EXPECT_EQ(std::count_if(relayed.headers.begin(), relayed.headers.end(),
                          [](const auto& h) { return h.first == "Content-Encoding"; }),
            0);

  http_response empty;
  empty.status = 204;
  encode_response("gzip", empty);
  EXPECT_TRUE(empty.headers.empty());
}

}  // namespace
}  // namespace tally::gateway
