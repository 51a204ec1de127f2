#include "gateway/router.h"

#include <algorithm>

namespace tally::gateway {

struct router::node {
  std::map<std::string, std::unique_ptr<node>, std::less<>> literal;
  std::unique_ptr<node> param;
  struct entry {
    std::string method;
    std::size_t value;
    std::vector<std::string> names;  // of the template's parameters, in order
  };
  std::vector<entry> routes;  // templates that end here
};

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

std::vector<std::string> router::split(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    path.remove_prefix(1);
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return out;
}

void router::add(std::string_view method, std::string_view pattern, std::size_t value) {
  node* at = root_.get();
  std::vector<std::string> names;
  for (const auto& seg : split(pattern)) {
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      names.push_back(seg.substr(1, seg.size() - 2));
      if (!at->param) at->param = std::make_unique<node>();
      at = at->param.get();
    } else {
      auto& next = at->literal[seg];
      if (!next) next = std::make_unique<node>();
      at = next.get();
    }
  }
  at->routes.push_back({std::string(method), value, std::move(names)});
}

namespace {

// Every node where a template that matches `segs` ends, literal first, and
// the parameter values on the way to each.
template <class Node>
void walk(const Node& n, const std::vector<std::string>& segs, std::size_t i,
          std::vector<std::string>& values,
          std::vector<std::pair<const Node*, std::vector<std::string>>>& out) {
  if (i == segs.size()) {
    if (!n.routes.empty()) out.emplace_back(&n, values);
    return;
  }
  const auto before = out.size();
  if (auto it = n.literal.find(segs[i]); it != n.literal.end())
    walk(*it->second, segs, i + 1, values, out);
  // A literal that leads to a template shadows the parameter: the path is
  // that template's alone ("/v1/sessions/bulk" is never the session "bulk").
  if (out.size() > before) return;
  if (n.param && !segs[i].empty()) {
    values.push_back(segs[i]);
    walk(*n.param, segs, i + 1, values, out);
    values.pop_back();
  }
}

}  // namespace

router::match router::find(std::string_view method, const std::vector<std::string>& segs) const {
  std::vector<std::pair<const node*, std::vector<std::string>>> ends;
  std::vector<std::string> values;
  walk(*root_, segs, 0, values, ends);
  match m;
  m.path_known = !ends.empty();
  for (const auto& [n, vals] : ends) {
    for (const auto& e : n->routes) {
      if (std::find(m.methods.begin(), m.methods.end(), e.method) == m.methods.end()) {
        m.methods.push_back(e.method);
        if (e.method == "GET") m.methods.emplace_back("HEAD");
      }
      if (m.value) continue;
      // HEAD is GET without the body (the server leaves it out).
      if (e.method == method || (e.method == "GET" && method == "HEAD")) {
        m.value = e.value;
        for (std::size_t k = 0; k < e.names.size() && k < vals.size(); ++k)
          m.params.emplace_back(e.names[k], vals[k]);
      }
    }
  }
  return m;
}

}  // namespace tally::gateway
