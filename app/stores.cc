#include "app/stores.h"

#include "commands/write_model.h"
#include "projections/keys.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace tally::app {

namespace fs = std::filesystem;

status renew_derived_store(ports::kv_store& kv, std::string_view what, std::string_view version,
                           bool force) {
  constexpr std::string_view key = "m/layout";
  const auto held = kv.get(key);
  if (held && *held == version && !force) return ok();
  bool empty = true;
  kv.scan("", "", [&](std::string_view k, std::string_view) {
    empty = k == "m/topic";  // the Kafka shape check's own key is not derived
    return empty;
  });
  if (!empty) {
    if (force)
      spdlog::info("emptying the {} to rebuild them from the log", what);
    else
      spdlog::warn(
          "the {} were derived by another version (layout {}, this one derives {}): "
          "emptying them to rebuild them from the log",
          what, held.value_or("1"), version);
    for (;;) {
      ports::kv_batch b;
      kv.scan("", "", [&](std::string_view k, std::string_view) {
        if (k != "m/topic" && k != key) b.erase(std::string(k));
        return b.deletes.size() < 10'000;
      });
      if (b.empty()) break;
      if (auto w = kv.write(b); !w) return w;
    }
  }
  ports::kv_batch b;
  b.put(std::string(key), std::string(version));
  return kv.write(b);
}

result<stores> open_stores(const std::string& data_dir, std::uint64_t min_free_bytes,
                           const serve_options* kafka) {
  stores s;
  if (kafka && !kafka->kafka.empty()) {
    infra::kafka_options ko;
    ko.bootstrap = kafka->kafka;
    ko.topic = kafka->topic;
    ko.reader_group =
        kafka->process == serve_options::role::projector ? "tally-projector" : "tally-reader";
    auto log = infra::kafka_log::open(ko);
    if (!log) return std::move(log).take_error();
    s.kafka = std::move(*log);
    s.log = s.kafka.get();
    auto state =
        infra::rocks_db::open((fs::path(data_dir) / "state").string(), {"state"}, min_free_bytes);
    if (!state) return std::move(state).take_error();
    s.state_db = std::move(*state);
    s.state_kv = std::make_unique<infra::rocks_kv>(*s.state_db, "state");
    s.state = s.state_kv.get();
    // Tenants are placed by the partition count: a topic that changed it
    // would put a tenant's new events where its old ones are not.
    const std::string shape = fmt::format("{} {}", ko.topic, s.kafka->partition_count());
    if (auto known = s.state->get("m/topic"); known && *known != shape)
      return make_error(errc::invalid_request,
                        fmt::format("the data directory was made for topic and partitions \"{}\", "
                                    "the cluster has \"{}\": the partition count of a topic "
                                    "must never change (docs/operations.md, \"Kafka\")",
                                    *known, shape));
    ports::kv_batch b;
    b.put("m/topic", shape);
    if (auto w = s.state->write(b); !w) return std::move(w).take_error();
  } else {
    auto log = infra::embedded_log::open((fs::path(data_dir) / "log").string(), min_free_bytes);
    if (!log) return std::move(log).take_error();
    s.embedded = std::move(*log);
    s.log = s.embedded.get();
    s.state = &s.embedded->state_store();
  }
  auto views =
      infra::rocks_db::open((fs::path(data_dir) / "views").string(), {"views"}, min_free_bytes);
  if (!views) return std::move(views).take_error();
  s.views_db = std::move(*views);
  s.views = std::make_unique<infra::rocks_kv>(*s.views_db, "views");
  if (auto r = renew_derived_store(*s.state, "deciders' aggregates",
                                   commands::write_model::layout_version);
      !r)
    return std::move(r).take_error();
  if (auto r = renew_derived_store(*s.views, "read models", projections::layout::version); !r)
    return std::move(r).take_error();
  return s;
}

}  // namespace tally::app
