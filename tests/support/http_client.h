#pragma once

// A blocking HTTP client for tests (libcurl), and JSON helpers.

#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace tally::testing {

struct response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  [[nodiscard]] boost::json::value json() const;
  [[nodiscard]] std::string header(const std::string& lower_name) const;
  // The problem's `code`, or "" if the body is not a problem.
  [[nodiscard]] std::string code() const;
  // The `field`s of the problem's errors.
  [[nodiscard]] std::vector<std::string> fields() const;
};

class http_client {
 public:
  explicit http_client(std::string base_url);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  std::string token;  // sent as a bearer token when set

  response request(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::vector<std::string>& headers = {});
  response get(const std::string& path, const std::vector<std::string>& headers = {}) {
    return request("GET", path, "", headers);
  }
  response post(const std::string& path, const std::string& body = "",
                const std::vector<std::string>& headers = {}) {
    return request("POST", path, body, headers);
  }
  response put(const std::string& path, const std::string& body,
               const std::vector<std::string>& headers = {}) {
    return request("PUT", path, body, headers);
  }
  response patch(const std::string& path, const std::string& body,
                 const std::vector<std::string>& headers = {}) {
    return request("PATCH", path, body, headers);
  }
  response del(const std::string& path, const std::vector<std::string>& headers = {}) {
    return request("DELETE", path, "", headers);
  }

 private:
  std::string base_;
  void* curl_;
};

// j["a"]["b"] without exceptions in tests: a missing path gives null.
boost::json::value at(const boost::json::value& v, std::initializer_list<std::string_view> path);
std::string str(const boost::json::value& v);
std::int64_t num(const boost::json::value& v);
// What a gzip body decodes to; "" if it is not gzip.
std::string gunzip(const std::string& data);

}  // namespace tally::testing
