#include "gateway/http_framing.h"

#include <strings.h>

namespace tally::gateway {

namespace {

bool named(const std::string& name, std::string_view want) {
  return name.size() == want.size() && strncasecmp(name.data(), want.data(), want.size()) == 0;
}

// The codings of a Transfer-Encoding value, lower-cased and trimmed.
void add_codings(std::string_view value, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    auto part = value.substr(start, comma - start);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    std::string c(part);
    for (auto& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.push_back(std::move(c));
    start = comma + 1;
  }
}

}  // namespace

std::optional<error> framing_problem(unsigned version, const header_list& headers) {
  std::vector<std::string> codings;
  bool has_te = false, has_length = false;
  int hosts = 0;
  for (const auto& [name, value] : headers) {
    if (named(name, "Transfer-Encoding")) {
      has_te = true;
      add_codings(value, codings);
    } else if (named(name, "Content-Length")) {
      has_length = true;
    } else if (named(name, "Host")) {
      ++hosts;
    }
  }
  if (has_te) {
    for (const auto& c : codings)
      if (c != "chunked") {
        std::string shown = c.size() > 40 ? c.substr(0, 40) + "…" : c;
        return error{errc::not_implemented,
                     "the transfer coding '" + shown + "' is not implemented; only chunked is",
                     {{"Transfer-Encoding", "only chunked is implemented"}}};
      }
    if (codings.size() != 1)
      return error{errc::invalid_request,
                   "chunked may be applied only once",
                   {{"Transfer-Encoding", "chunked may be applied only once"}}};
    if (version < 11)
      return error{errc::invalid_request,
                   "Transfer-Encoding needs HTTP/1.1",
                   {{"Transfer-Encoding", "is not allowed in HTTP/1.0"}}};
    if (has_length)
      return error{errc::invalid_request,
                   "a request may not carry both Transfer-Encoding and Content-Length",
                   {{"Content-Length", "is not allowed with Transfer-Encoding"}}};
  }
  if (version >= 11 && hosts != 1)
    return error{
        errc::invalid_request,
        hosts == 0 ? "an HTTP/1.1 request must carry Host" : "a request may carry only one Host",
        {{"Host", hosts == 0 ? "is missing" : "is repeated"}}};
  return std::nullopt;
}

}  // namespace tally::gateway
