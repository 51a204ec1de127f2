// `tally verify`: every tenant's hash chain, from a data directory, a Kafka
// topic or an export; a signed head against an export.

#include "app/serve.h"
#include "app/stores.h"

#include "base/ed25519.h"
#include "base/jcs.h"
#include "domain/chain.h"
#include "projections/audit.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace tally::app {

namespace fs = std::filesystem;

namespace {

std::optional<boost::json::object> read_json_file(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(text.str(), ec);
  if (!in || ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::string member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A signed head (GET /v1/audit/head) against the key (GET /v1/audit/key) and
// the hashes an export's chain verified, by tenant and position.
int check_head(const verify_options& o,
               const std::map<std::string, std::map<std::string, std::string>>& hashes) {
  auto head = read_json_file(o.head);
  auto key = o.key.empty() ? std::nullopt : read_json_file(o.key);
  if (!head || !key) {
    std::cout << "cannot read " << (!head ? o.head : o.key) << " as JSON\n";
    return 2;
  }
  const auto x = from_base64url(member(*key, "x"));
  const auto signature = from_base64url(member(*head, "signature"));
  if (member(*key, "kty") != "OKP" || member(*key, "crv") != "Ed25519" || !x || x->size() != 32) {
    std::cout << o.key << " is not an Ed25519 public key (JWK)\n";
    return 2;
  }
  const std::string tenant = member(*head, "tenant"), position = member(*head, "position"),
                    hash = member(*head, "hash");
  const std::string what = "the head of " + tenant + " at " +
                           (position.empty() ? std::string("the start") : position) +
                           " signed at " + member(*head, "signed_at");
  if (member(*head, "kid") != ed25519_kid(*x)) {
    std::cout << what << ": signed with another key (kid " << member(*head, "kid") << ")\n";
    return 1;
  }
  auto unsigned_head = *head;
  unsigned_head.erase("signature");
  if (!signature || !ed25519_verify(*x, canonical_json(unsigned_head), *signature)) {
    std::cout << what << ": the signature does not verify (the head was changed)\n";
    return 1;
  }
  if (!position.empty()) {
    const auto t = hashes.find(tenant);
    if (t == hashes.end() || !t->second.contains(position)) {
      std::cout << what << ": the export has no verified event at " << position << "\n";
      return 1;
    }
    if (t->second.at(position) != hash) {
      std::cout << what << ": the event at " << position
                << " is not the one signed (the history before the head was rewritten)\n";
      return 1;
    }
  }
  std::cout << what << ": holds (signed by " << member(*head, "kid") << ")\n";
  return 0;
}

int chain_report_out(const std::vector<projections::chain_report>& reports) {
  int code = 0;
  for (const auto& r : reports) {
    if (r.ok) {
      std::cout << r.tenant << ": ok, " << r.events << " events, head " << r.head << "\n";
    } else {
      std::cout << (r.tenant.empty() ? std::string("(a record of no known tenant)") : r.tenant)
                << ": broken at " << (r.position.empty() ? "?" : r.position) << ": " << r.reason
                << " (" << r.events << " events verified before it)\n";
      code = 1;
    }
  }
  std::cout.flush();
  return code;
}

}  // namespace

int verify(const verify_options& o, const serve_options& log_options) {
  if (!o.file.empty()) {
    std::ifstream in(o.file);
    if (!in) {
      spdlog::error("cannot read {}", o.file);
      return 2;
    }
    std::map<std::string, chain_verifier> chains;
    std::map<std::string, std::map<std::string, std::string>> hashes;  // tenant: position: hash
    std::string line;
    std::int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      const auto* t = !ec && v.is_object() ? v.as_object().if_contains("tenant") : nullptr;
      if (!t || !t->is_string()) {
        std::cout << o.file << ":" << n << ": not an event\n";
        return 1;
      }
      const std::string tenant(t->as_string());
      if (!o.tenant.empty() && tenant != o.tenant) continue;
      std::string position;
      if (const auto* p = v.as_object().if_contains("position"); p && p->is_string())
        position = std::string(p->as_string());
      if (chains[tenant].add(line)) hashes[tenant][position] = chains[tenant].head();
    }
    std::vector<projections::chain_report> reports;
    for (const auto& [tenant, v] : chains) reports.push_back(projections::report_of(tenant, v));
    int code = chain_report_out(reports);
    if (!o.head.empty()) code = std::max(code, check_head(o, hashes));
    return code;
  }
  if (log_options.kafka.empty() && !fs::exists(fs::path(log_options.data_dir) / "log")) {
    spdlog::error("no log in {} (on Kafka: --kafka HOST:PORT)", log_options.data_dir);
    return 2;
  }
  auto st =
      open_stores(log_options.data_dir, infra::rocks_db::default_min_free_bytes, &log_options);
  if (!st) {
    spdlog::error("{}", st.err().detail);
    return 2;
  }
  auto reports = projections::verify_chains(
      *st->log, o.tenant.empty() ? std::nullopt : std::optional(ids::tenant{o.tenant}));
  if (!reports) {
    spdlog::error("{}", reports.err().detail);
    return 2;
  }
  return chain_report_out(*reports);
}

}  // namespace tally::app
