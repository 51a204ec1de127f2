#pragma once

// Where webhooks may be sent (API.md, "Webhooks"): https anywhere public;
// http, and private, loopback or link-local addresses, only to hosts the
// operator lists (--webhook-allow-hosts).

#include "domain/error.h"

#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace tally::webhooks {

class outbound_policy {
 public:
  outbound_policy() = default;
  // Hosts as written in URLs ("127.0.0.1", "hooks.internal", "::1"), any case.
  explicit outbound_policy(std::vector<std::string> allowed_hosts);
  // From a comma-separated list; blanks around names are ignored.
  static outbound_policy from_list(std::string_view list);

  // Checks a URL when a webhook is registered: a problem naming `url`, or ok.
  [[nodiscard]] status check_url(std::string_view url) const;
  // At connect time, for the address a host name resolved to.
  [[nodiscard]] bool allows_address(std::string_view host, const sockaddr* address) const;
  [[nodiscard]] bool listed(std::string_view host) const;

 private:
  std::vector<std::string> allowed_;
};

// Whether an IP address is private, loopback, link-local, unspecified or
// otherwise not on the public internet.
bool is_internal_address(const sockaddr* address);
// The same for an IP literal ("10.0.0.1", "::1"); false for a name.
bool is_internal_literal(std::string_view host);

}  // namespace tally::webhooks
