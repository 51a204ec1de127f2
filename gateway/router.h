#pragma once

// Matches a request path against route templates ("/v1/sessions/{id}/items")
// in one walk of a tree of segments. A literal segment that leads to a
// template shadows a parameter there: "/v1/sessions/bulk" takes only the
// methods of that template (Allow: POST), never GET of the session "bulk",
// as the OpenAPI document lists them. Where no literal leads anywhere, the
// parameter matches ("/v1/sessions/bulk/items" is the session "bulk"'s).

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tally::gateway {

class router {
 public:
  router();
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;

  // `value` is what a match gives back (an index into the caller's routes).
  void add(std::string_view method, std::string_view pattern, std::size_t value);

  struct match {
    bool path_known = false;           // some template matches the path, whatever the method
    std::optional<std::size_t> value;  // the route for the method (HEAD: GET's)
    std::vector<std::pair<std::string, std::string>> params;  // of that route, by name
    std::vector<std::string> methods;  // every method the path takes (HEAD where GET is)
  };
  [[nodiscard]] match find(std::string_view method, const std::vector<std::string>& segments) const;

  // The segments of a path or template ("/a/{b}" -> "a", "{b}").
  static std::vector<std::string> split(std::string_view path);

 private:
  struct node;
  std::unique_ptr<node> root_;
};

}  // namespace tally::gateway
