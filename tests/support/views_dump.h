#pragma once

// The read models of a data directory (the server stopped), key by key: to
// compare live read models with a rebuild.

#include "infra/rocks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

namespace tally::testing {

inline std::map<std::string, std::string> dump_views(const std::filesystem::path& data) {
  std::map<std::string, std::string> out;
  auto db = tally::infra::rocks_db::open((data / "views").string(), {"views"});
  EXPECT_TRUE(db.has_value());
  if (!db) return out;
  tally::infra::rocks_kv kv(**db, "views");
  kv.scan("", "", [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  return out;
}

}  // namespace tally::testing
