#pragma once

// Content coding of answers (RFC 9110 8.4 and 12.5.3): gzip, by zlib, for a
// client that accepts it. No Beast here; the server (http_server.cc) calls
// it on every answer just before writing it.

#include "gateway/http_types.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tally::gateway {

// Bodies below this are sent as they are: the header costs more than gzip saves.
inline constexpr std::size_t gzip_threshold = 1024;

// Whether an Accept-Encoding field value accepts gzip: "gzip", "x-gzip" or
// "*" listed with a q-value above zero (and gzip not refused by "gzip;q=0").
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding);

// The gzip member (RFC 1952) of `data`; nullopt if zlib fails.
[[nodiscard]] std::optional<std::string> gzip(std::string_view data);

// Adds "Accept-Encoding" to Vary of every answer with a body (caches must
// know the coding depends on it) and compresses the body if the request
// accepts gzip, it is at least gzip_threshold bytes, and it has no
// Content-Encoding yet (an answer relayed from another process keeps its
// own).
void encode_response(std::string_view accept_encoding, http_response& r);

}  // namespace tally::gateway
