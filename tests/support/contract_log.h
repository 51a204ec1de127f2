#pragma once

// With TALLY_CONTRACT_LOG=DIR, the test clients write every answer and
// WebSocket message they get to DIR/<pid>.ndjson, for scripts/contracts.py
// to validate against docs/openapi.json and docs/asyncapi.json.

#include <string>

namespace tally::testing {

void record_http(const std::string& method, const std::string& target, long status,
                 const std::string& content_type, const std::string& content_encoding,
                 const std::string& body);
void record_ws(const std::string& text);

}  // namespace tally::testing
