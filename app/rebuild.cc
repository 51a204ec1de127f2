// `tally rebuild` and `tally rebuild --verify`: the read models from the log.

#include "app/serve.h"
#include "app/stores.h"

#include "commands/write_model.h"
#include "projections/audit.h"
#include "projections/keys.h"
#include "projections/projector.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

namespace tally::app {

namespace fs = std::filesystem;

int rebuild(const serve_options& o, bool progress_bar) {
  const std::string& data_dir = o.data_dir;
  if (o.kafka.empty() && !fs::exists(fs::path(data_dir) / "log")) {
    spdlog::error("no log in {} (on Kafka: --kafka HOST:PORT)", data_dir);
    return 1;
  }
  std::error_code ec;
  fs::remove_all(fs::path(data_dir) / "views", ec);
  if (ec) {
    spdlog::error("cannot drop the read models: {}", ec.message());
    return 1;
  }
  auto st = open_stores(data_dir, infra::rocks_db::default_min_free_bytes, &o);
  if (!st) {
    spdlog::error("{}", st.err().detail);
    return 1;
  }
  // The deciders' store is derived too: emptied, it is replayed from the log
  // at the next start, so that a tenant stopped at a record that now reads
  // (a newer version, a restored log) has its write model whole again.
  if (auto r = renew_derived_store(*st->state, "deciders' aggregates",
                                   commands::write_model::layout_version, true);
      !r) {
    spdlog::error("{}", r.err().detail);
    return 1;
  }
  projections::projector projector(*st->log, *st->views);
  std::int64_t events = 0;
  projector.on_applied([&](const std::vector<ports::recorded_event>& batch) {
    events += static_cast<std::int64_t>(batch.size());
  });
  auto s = projector.catch_up([&](std::int64_t done, std::int64_t total) {
    if (!progress_bar || total <= 0) return;
    const int width = 40;
    const int filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r[%s%s] %lld/%lld events",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
  });
  if (progress_bar) std::fprintf(stderr, "\n");
  if (!s) {
    spdlog::error("rebuild failed: {}", s.err().detail);
    return 1;
  }
  std::cout << "rebuilt the read models from " << events << " events" << std::endl;
  // A tenant stopped at a record that cannot be read is named; every other
  // tenant is rebuilt (docs/operations.md, "A tenant's projection is stopped").
  const auto stopped = projector.stops().all();
  for (const auto& stop : stopped)
    std::cout << (stop.tenant.empty() ? std::string("(a record of no known tenant)") : stop.tenant)
              << ": stopped at " << stop.pos.token() << ": " << stop.reason << std::endl;
  return stopped.empty() ? 0 : 1;
}

int rebuild_verify(const serve_options& o) {
  if (o.kafka.empty() && !fs::exists(fs::path(o.data_dir) / "log")) {
    spdlog::error("no log in {} (on Kafka: --kafka HOST:PORT)", o.data_dir);
    return 2;
  }
  auto st = open_stores(o.data_dir, infra::rocks_db::default_min_free_bytes, &o);
  if (!st) {
    spdlog::error("{}", st.err().detail);
    return 2;
  }
  const auto scratch = fs::path(o.data_dir) / "views-verify";
  std::error_code ec;
  fs::remove_all(scratch, ec);
  int code = 0;
  {
    auto db =
        infra::rocks_db::open(scratch.string(), {"views"}, infra::rocks_db::default_min_free_bytes);
    if (!db) {
      spdlog::error("{}", db.err().detail);
      return 2;
    }
    infra::rocks_kv rebuilt(**db, "views");
    if (auto r = renew_derived_store(rebuilt, "read models", projections::layout::version); !r) {
      spdlog::error("{}", r.err().detail);
      return 2;
    }
    projections::projector projector(*st->log, rebuilt);
    if (auto s = projector.catch_up(); !s) {
      spdlog::error("rebuild failed: {}", s.err().detail);
      return 2;
    }
    const auto live = projections::digest_views(*st->views);
    const auto fresh = projections::digest_views(rebuilt);
    std::set<std::string> models;
    for (const auto& [m, d] : live) models.insert(m);
    for (const auto& [m, d] : fresh) models.insert(m);
    for (const auto& m : models) {
      const auto l = live.find(m), f = fresh.find(m);
      const bool same = l != live.end() && f != fresh.end() && l->second.sha256 == f->second.sha256;
      if (same) {
        std::cout << m << ": same (" << l->second.keys << " keys, sha256 " << l->second.sha256
                  << ")\n";
        continue;
      }
      code = 1;
      std::cout << m << ": differs at " << projections::first_difference(*st->views, rebuilt, m)
                << " (live " << (l == live.end() ? 0 : l->second.keys) << " keys, rebuilt "
                << (f == fresh.end() ? 0 : f->second.keys) << ")\n";
    }
  }
  fs::remove_all(scratch, ec);
  std::cout << (code == 0 ? "the read models are what the log says" : "the read models differ")
            << std::endl;
  return code;
}

}  // namespace tally::app
