// libFuzzer: a bearer token through the gateway's verifier (libjwt decoding,
// the HS256-only rule, exp/nbf, sub, tenant, roles). Half the inputs are
// signed with the verifier's secret so that the checks after the signature
// are reached too: the input then gives the claims.

#include "gateway/auth.h"

#include <jwt.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace tally;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string secret = "fuzz-secret-fuzz-secret-fuzz-secret";
  static const gateway::token_verifier verifier(secret);
  std::string input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == '{') {
    // Claims as JSON, signed properly.
    jwt_t* j = nullptr;
    if (jwt_new(&j) != 0) return 0;
    if (jwt_add_grants_json(j, input.c_str()) == 0 &&
        jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                    static_cast<int>(secret.size())) == 0) {
      if (char* token = jwt_encode_str(j)) {
        (void)verifier.verify(token);
        std::free(token);
      }
    }
    jwt_free(j);
    return 0;
  }
  (void)verifier.verify(input);
  return 0;
}
