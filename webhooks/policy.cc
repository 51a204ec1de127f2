#include "webhooks/policy.h"

#include <boost/url/parse.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace tally::webhooks {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

bool internal_v4(std::uint32_t a) {  // host byte order
  const auto in = [a](std::uint32_t net, int bits) {
    return (a >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x00000000, 8) ||   // "this" network
         in(0x0A000000, 8) ||   // 10/8
         in(0x64400000, 10) ||  // 100.64/10, carrier-grade NAT
         in(0x7F000000, 8) ||   // loopback
         in(0xA9FE0000, 16) ||  // link-local (and cloud metadata at 169.254.169.254)
         in(0xAC100000, 12) ||  // 172.16/12
         in(0xC0A80000, 16) ||  // 192.168/16
         in(0xE0000000, 4) ||   // multicast
         in(0xF0000000, 4);     // reserved, broadcast
}

bool internal_v6(const in6_addr& a) {
  const unsigned char* b = a.s6_addr;
  static const unsigned char zero[16] = {};
  if (std::memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if ((b[0] & 0xfe) == 0xfc) return true;                                        // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;                        // fe80::/10
  if (b[0] == 0xff) return true;                                                 // multicast
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, mapped, 12) == 0) {
    std::uint32_t v4 = 0;
    std::memcpy(&v4, b + 12, 4);
    return internal_v4(ntohl(v4));
  }
  return false;
}

}  // namespace

bool is_internal_address(const sockaddr* address) {
  if (!address) return true;
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    return internal_v4(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    return internal_v6(in6.sin6_addr);
  }
  return true;
}

bool is_internal_literal(std::string_view host) {
  const std::string h(unbracket(host));
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return internal_v4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return internal_v6(v6);
  return false;
}

outbound_policy::outbound_policy(std::vector<std::string> allowed_hosts) {
  for (auto& h : allowed_hosts) allowed_.push_back(lower(unbracket(h)));
}

outbound_policy outbound_policy::from_list(std::string_view list) {
  std::vector<std::string> hosts;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) hosts.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return outbound_policy(std::move(hosts));
}

bool outbound_policy::listed(std::string_view host) const {
  const std::string h = lower(unbracket(host));
  return std::find(allowed_.begin(), allowed_.end(), h) != allowed_.end();
}

status outbound_policy::check_url(std::string_view url) const {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return invalid_field("url", "is not an absolute URL");
  const std::string scheme = lower(u->scheme());
  const std::string host(u->encoded_host());
  if (host.empty()) return invalid_field("url", "must name a host");
  if (u->has_fragment()) return invalid_field("url", "must not have a #fragment");
  const bool allowed = listed(host);
  if (scheme == "http") {
    if (!allowed)
      return invalid_field("url", "must be https (http only to hosts in --webhook-allow-hosts; " +
                                      host + " is not one)");
  } else if (scheme != "https") {
    return invalid_field("url", "must be an https URL");
  }
  if (!allowed && (is_internal_literal(host) || lower(host) == "localhost" ||
                   lower(host).ends_with(".localhost")))
    return invalid_field("url", "must not point at a private, loopback or link-local address (" +
                                    host + " is not in --webhook-allow-hosts)");
  return ok();
}

bool outbound_policy::allows_address(std::string_view host, const sockaddr* address) const {
  return listed(host) || !is_internal_address(address);
}

}  // namespace tally::webhooks
