// The router: one walk of the path, literal segments shadowing parameters,
// the method from the template that takes the path, Allow from the same.

#include "gateway/router.h"

#include <gtest/gtest.h>

namespace tally::gateway {
namespace {

router sample() {
  router r;
  r.add("GET", "/v1/sessions", 0);
  r.add("POST", "/v1/sessions", 1);
  r.add("GET", "/v1/sessions/{id}", 2);
  r.add("GET", "/v1/sessions/active", 3);
  r.add("POST", "/v1/sessions/bulk", 4);
  r.add("DELETE", "/v1/sessions/{id}/items/{line_id}", 5);
  r.add("PUT", "/v1/inventory/{item_id}", 6);
  return r;
}

TEST(router, literals_win_over_parameters_and_parameters_are_named) {
  const auto r = sample();
  auto active = r.find("GET", router::split("/v1/sessions/active"));
  EXPECT_EQ(active.value, 3u);
  EXPECT_TRUE(active.params.empty());
  auto one = r.find("GET", router::split("/v1/sessions/s-1"));
  EXPECT_EQ(one.value, 2u);
  ASSERT_EQ(one.params.size(), 1u);
  EXPECT_EQ(one.params[0], (std::pair<std::string, std::string>{"id", "s-1"}));
  auto line = r.find("DELETE", router::split("/v1/sessions/s-1/items/l-2"));
  EXPECT_EQ(line.value, 5u);
  ASSERT_EQ(line.params.size(), 2u);
  EXPECT_EQ(line.params[1], (std::pair<std::string, std::string>{"line_id", "l-2"}));
  EXPECT_EQ(r.find("PUT", router::split("/v1/inventory/chips")).params[0].first, "item_id");
}

TEST(router, a_literal_path_takes_only_its_own_methods_and_allow_lists_them) {
  const auto r = sample();
  // GET /v1/sessions/bulk: the literal takes POST only; {id} does not take
  // the path (schemathesis found Allow naming GET where the document has
  // POST alone).
  auto bulk = r.find("GET", router::split("/v1/sessions/bulk"));
  EXPECT_TRUE(bulk.path_known);
  EXPECT_FALSE(bulk.value);
  EXPECT_EQ(bulk.methods, (std::vector<std::string>{"POST"}));
  // Below it, where no literal goes on, the parameter matches.
  EXPECT_EQ(r.find("DELETE", router::split("/v1/sessions/bulk/items/l-1")).value, 5u);
  // HEAD is GET's; a method nobody takes is a known path without a value.
  EXPECT_EQ(r.find("HEAD", router::split("/v1/sessions")).value, 0u);
  auto patch = r.find("PATCH", router::split("/v1/sessions/s-1"));
  EXPECT_TRUE(patch.path_known);
  EXPECT_FALSE(patch.value);
  EXPECT_EQ(patch.methods, (std::vector<std::string>{"GET", "HEAD"}));
}

TEST(router, unknown_paths_and_empty_segments_match_nothing) {
  const auto r = sample();
  for (const auto* path : {"/v1", "/v1/nothing", "/v1/sessions/s-1/items", "/v1/sessions/",
                           "/v1/sessions//items/x", "/", "/v1/sessions/s/items/l/extra"}) {
    auto m = r.find("GET", router::split(path));
    EXPECT_FALSE(m.path_known) << path;
    EXPECT_FALSE(m.value) << path;
    EXPECT_TRUE(m.methods.empty()) << path;
  }
}

}  // namespace
}  // namespace tally::gateway
