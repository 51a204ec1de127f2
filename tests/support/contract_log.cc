#include "support/contract_log.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include <unistd.h>

namespace tally::testing {

namespace {

void append(const boost::json::object& record) {
  static const char* dir = std::getenv("TALLY_CONTRACT_LOG");
  if (!dir || !*dir) return;
  static std::mutex m;
  std::lock_guard lock(m);
  std::ofstream out(std::string(dir) + "/" + std::to_string(::getpid()) + ".ndjson", std::ios::app);
  out << boost::json::serialize(record) << "\n";
}

}  // namespace

void record_http(const std::string& method, const std::string& target, long status,
                 const std::string& content_type, const std::string& content_encoding,
                 const std::string& body) {
  if (status == 0 || !content_encoding.empty()) return;  // no answer, or not readable as is
  append({{"kind", "http"},
          {"method", method},
          {"target", target},
          {"status", status},
          {"content_type", content_type},
          {"body", body}});
}

void record_ws(const std::string& text) { append({{"kind", "ws"}, {"text", text}}); }

}  // namespace tally::testing
