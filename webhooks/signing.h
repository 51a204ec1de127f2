#pragma once

// Webhook secrets and signatures (API.md, "Webhooks").

#include "domain/ids.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace tally::webhooks {

// The webhook's signing secret: "whsec_" + hex HMAC-SHA256 under the
// server's key of the tenant and the webhook id. Never stored: every process
// that holds the key derives the same secret.
std::string secret_for(std::string_view server_key, const ids::tenant& t, const ids::webhook& w);

// The Tally-Signature header value: "t=<unix seconds>,v1=<hex HMAC-SHA256
// under the secret's bytes of "<t>.<body>">".
std::string signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

}  // namespace tally::webhooks
