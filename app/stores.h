#pragma once

// The log and the stores beside it, opened for a subcommand (serve, gateway,
// projector, rebuild, verify, migrate).

#include "app/serve.h"
#include "infra/embedded_log.h"
#include "infra/kafka_log.h"
#include "infra/ports/event_log.h"
#include "infra/ports/kv_store.h"
#include "infra/rocks.h"

#include <memory>
#include <string_view>

namespace tally::app {

// The log and the stores beside it. Embedded: the log's own database holds
// the deciders' store. Kafka: the deciders' store is <data>/state.
struct stores {
  std::unique_ptr<infra::embedded_log> embedded;
  std::unique_ptr<infra::kafka_log> kafka;
  std::unique_ptr<infra::rocks_db> state_db;
  std::unique_ptr<infra::rocks_kv> state_kv;
  std::unique_ptr<infra::rocks_db> views_db;
  std::unique_ptr<infra::rocks_kv> views;
  ports::event_log* log = nullptr;
  ports::kv_store* state = nullptr;
};

// The read models and the deciders' store are derived from the log. When
// what this build derives differs from what a store holds (its layout
// version), or `force` (tally rebuild), the store is emptied, to be rebuilt
// from the log: the deciders replay it on recovery, the projector on
// catch-up.
status renew_derived_store(ports::kv_store& kv, std::string_view what, std::string_view version,
                           bool force = false);

// Opens the log (embedded in <data>/log, or the Kafka topic of `kafka`), the
// deciders' store and the read models, renewing either that another layout
// made.
result<stores> open_stores(const std::string& data_dir, std::uint64_t min_free_bytes,
                           const serve_options* kafka = nullptr);

}  // namespace tally::app
