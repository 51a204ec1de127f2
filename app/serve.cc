#include "app/serve.h"

#include "base/ed25519.h"
#include "base/jcs.h"
#include "commands/command_bus.h"
#include "commands/scheduler.h"
#include "domain/chain.h"
#include "projections/audit.h"
#include "projections/keys.h"

#include <boost/json.hpp>
#include "gateway/api.h"
#include "gateway/auth.h"
#include "gateway/http_forwarder.h"
#include "gateway/http_server.h"
#include "gateway/stream_hub.h"
#include "infra/clock.h"
#include "infra/dev_kafka.h"
#include "infra/embedded_log.h"
#include "infra/kafka_group.h"
#include "infra/kafka_log.h"
#include "infra/rocks.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "webhooks/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <malloc.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tally::app {

namespace fs = std::filesystem;

std::string jwt_secret(const std::string& data_dir, bool create) {
  if (const char* env = std::getenv("TALLY_JWT_SECRET"); env && *env) return env;
  const fs::path file = fs::path(data_dir) / "jwt-secret";
  {
    std::ifstream in(file);
    std::string secret;
    if (in >> secret && !secret.empty()) return secret;
  }
  if (!create) return {};
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  std::random_device rd;
  std::string secret;
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 0; i < 64; ++i) secret += digits[rd() % 16];
  {
    std::ofstream out(file, std::ios::trunc);
    out << secret << '\n';
    out.flush();
    if (!out) {
      // A full disk, say: a secret that was not kept would change at the
      // next start and void every token.
      out.close();
      fs::remove(file, ec);
      return {};
    }
  }
  ::chmod(file.c_str(), 0600);
  return secret;
}

namespace {

// The key that signs chain heads: --audit-key FILE, else <data>/audit-key.pem,
// made on first start (docs/audit.md).
std::optional<ed25519_key> load_audit_key(const serve_options& o) {
  const std::string file =
      o.audit_key.empty() ? (fs::path(o.data_dir) / "audit-key.pem").string() : o.audit_key;
  std::string error;
  auto key = ed25519_key::load_or_create(file, error);
  if (!key) spdlog::error("{}", error);
  return key;
}

void scheduler_metrics(metrics_text& m, const commands::scheduler& s) {
  m.gauge("tally_scheduler_due",
          "Sessions with a deadline the scheduler will act on (a shopping session's inactivity "
          "timeout, an appointment's end).",
          "", static_cast<double>(s.tracked()));
}

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
// version), the store is emptied, to be rebuilt from the log: the deciders
// replay it on recovery, the projector on catch-up.
status renew_derived_store(ports::kv_store& kv, std::string_view what, std::string_view version) {
  constexpr std::string_view key = "m/layout";
  const auto held = kv.get(key);
  if (held && *held == version) return ok();
  bool empty = true;
  kv.scan("", "", [&](std::string_view k, std::string_view) {
    empty = k == "m/topic";  // the Kafka shape check's own key is not derived
    return empty;
  });
  if (!empty) {
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
                           const serve_options* kafka = nullptr) {
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

}  // namespace

// Hands memory freed after a load peak back to the system. glibc keeps
// freed memory in its arenas (one per thread that allocated), so without
// this the server's RSS stays at its highest for good. malloc_trim walks the
// arenas and returns their free pages; every 10 s it costs a few
// milliseconds on this thread and nothing on the others.
class memory_returner {
 public:
  memory_returner()
      : thread_([this] {
          std::unique_lock lock(mutex_);
          while (!stop_) {
            if (wake_.wait_for(lock, std::chrono::seconds(10), [this] { return stop_; })) break;
            lock.unlock();
            ::malloc_trim(0);
            lock.lock();
          }
        }) {}
  ~memory_returner() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  memory_returner(const memory_returner&) = delete;
  memory_returner& operator=(const memory_returner&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// The clock a process reads: the system's, or with --test-clock the test
// clock kept in the data directory.
struct process_clock {
  infra::system_clock_source system;
  std::unique_ptr<infra::test_clock> test;
  explicit process_clock(const serve_options& o) {
    if (o.test_clock)
      test = std::make_unique<infra::test_clock>(
          (fs::path(o.data_dir) / "test-clock-offset").string());
  }
  [[nodiscard]] const clock_source& now() const {
    return test ? static_cast<const clock_source&>(*test) : system;
  }
};

// Kafka mode's --test-clock: one clock for the whole deployment, carried on
// tally.owners. Advancing it anywhere publishes the new offset and answers
// once every process of the deployment says it runs on it (each acknowledges
// by publishing itself with its offset).
class deployment_clock final : public clock_control {
 public:
  deployment_clock(infra::test_clock& local, infra::owners_board& board)
      : local_(local), board_(board) {}
  // Called once this process knows the URL the others see it by.
  void join(const std::string& self) {
    self_ = self;
    board_.on_clock([this](std::int64_t offset) {
      if (auto s = local_.set_offset_ms(offset); !s)
        spdlog::error("test clock: {}", s.err().detail);
      if (auto s = board_.publish_member(self_, local_.offset_ms()); !s)
        spdlog::warn("test clock: {}", s.err().detail);
    });
    if (auto s = board_.publish_member(self_, local_.offset_ms()); !s)
      spdlog::warn("test clock: {}", s.err().detail);
  }
  status advance(std::int64_t seconds) override {
    if (auto s = local_.advance(seconds); !s) return s;
    const auto target = local_.offset_ms();
    if (auto s = board_.publish_clock(target); !s) return s;
    if (!board_.wait_members_at(target, std::chrono::seconds(10)))
      return make_error(errc::unavailable,
                        "not every process of the deployment read the new time within 10 s");
    return ok();
  }
  [[nodiscard]] std::int64_t offset_ms() const override { return local_.offset_ms(); }

 private:
  infra::test_clock& local_;
  infra::owners_board& board_;
  std::string self_;
};

int serve(const serve_options& o) {
  const bool replica = o.process == serve_options::role::projector;
  if (replica && o.kafka.empty()) {
    spdlog::error("tally projector needs --kafka HOST:PORT");
    return 2;
  }
  if ((replica || !o.kafka.empty()) && !std::getenv("TALLY_JWT_SECRET")) {
    // Every process of a deployment must verify the same tokens.
    spdlog::error("set TALLY_JWT_SECRET: every process of a Kafka deployment shares it");
    return 2;
  }
  const std::string secret = jwt_secret(o.data_dir, true);
  if (secret.empty()) {
    spdlog::error("cannot keep the token secret in {} (is the disk full?)", o.data_dir);
    return 1;
  }
  auto st = open_stores(o.data_dir, o.min_free_disk_mb << 20, &o);
  if (!st) {
    spdlog::error("{}", st.err().detail);
    return 1;
  }
  if (st->kafka && !replica) {
    // One process: it writes every partition, and takes back one it loses.
    for (std::int32_t p = 0; p < st->kafka->partition_count(); ++p) {
      if (auto s = st->kafka->own(p); !s) {
        spdlog::error("{}", s.err().detail);
        return 1;
      }
    }
    spdlog::info("writing {} partitions of {} on {}", st->kafka->partition_count(), o.topic,
                 o.kafka);
  }
  process_clock clocks(o);
  infra::test_clock* test_clock = clocks.test.get();
  const clock_source& clock = clocks.now();

  // The command side: the deciders and their scheduler, or none at all in
  // a read replica.
  std::optional<commands::command_bus> bus;
  std::optional<commands::scheduler> scheduler;
  commands::read_only_commands no_commands;
  if (!replica) {
    bus.emplace(*st->log, *st->state, clock, commands::command_bus::options{});
    scheduler.emplace(*bus, clock, *st->state);
    bus->set_scheduler(&*scheduler);
    if (auto s = bus->start(); !s) {
      spdlog::error("cannot start the command side: {}", s.err().detail);
      return 1;
    }
    scheduler->start();
  }
  commands::command_port& commands = bus ? static_cast<commands::command_port&>(*bus) : no_commands;
  projections::projector projector(*st->log, *st->views);
  if (auto s = projector.catch_up(); !s) {
    spdlog::error("cannot bring the read models up to date: {}", s.err().detail);
    return 1;
  }
  projector.start();
  projections::queries queries(*st->views, clock);
  gateway::token_verifier verifier(secret);
  auto audit_key = load_audit_key(o);
  if (!audit_key) return 1;

  memory_returner trimmer;
  gateway::http_server server({o.host, o.port, o.threads}, clock);
  std::unique_ptr<infra::owners_board> board;
  std::unique_ptr<deployment_clock> shared_clock;
  clock_control* controls = test_clock;
  if (replica && test_clock) {
    infra::kafka_options ko;
    ko.bootstrap = o.kafka;
    auto b = infra::owners_board::open(ko, "tally.owners");
    if (!b) {
      spdlog::error("{}", b.err().detail);
      return 1;
    }
    board = std::move(*b);
    shared_clock = std::make_unique<deployment_clock>(*test_clock, *board);
    controls = shared_clock.get();
  }
  // Webhooks: delivered from here unless this is a projector not asked to.
  std::unique_ptr<infra::rocks_db> hooks_db;
  std::unique_ptr<infra::rocks_kv> hooks_kv;
  std::unique_ptr<webhooks::dispatcher> dispatcher;
  const auto policy = webhooks::outbound_policy::from_list(o.webhook_allow_hosts);
  if (!replica || o.dispatch_webhooks) {
    auto db = infra::rocks_db::open((fs::path(o.data_dir) / "webhooks").string(), {"webhooks"},
                                    o.min_free_disk_mb << 20);
    if (!db) {
      spdlog::error("{}", db.err().detail);
      return 1;
    }
    hooks_db = std::move(*db);
    hooks_kv = std::make_unique<infra::rocks_kv>(*hooks_db, "webhooks");
    dispatcher = std::make_unique<webhooks::dispatcher>(
        *st->log, *hooks_kv, clock, webhooks::dispatcher_options{secret, policy}, &projector);
    dispatcher->start();
  }
  gateway::api api({commands, &projector, &queries, *st->log, clock, verifier, controls,
                    server.schedule(), &server.metrics(), nullptr, secret, policy, dispatcher.get(),
                    gateway::cors_policy::from_list(o.cors_origins),
                    [&](metrics_text& m) {
                      if (scheduler) scheduler_metrics(m, *scheduler);
                      if (dispatcher) dispatcher->write_metrics(m);
                    },
                    &*audit_key});
  gateway::stream_hub hub(projector, queries, *st->log, {});
  auto s = server.run(api, &hub, [&](const std::string& endpoint) {
    if (shared_clock) shared_clock->join("http://" + endpoint);
    std::cout << "listening on http://" << endpoint << std::endl;
  });
  if (dispatcher) dispatcher->stop();
  if (scheduler) scheduler->stop();
  if (bus) bus->stop();
  projector.stop();
  if (!s) {
    spdlog::error("{}", s.err().detail);
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

int gateway(const serve_options& o) {
  if (o.kafka.empty() || o.projector_url.empty()) {
    spdlog::error("tally gateway needs --kafka HOST:PORT and --projector URL");
    return 2;
  }
  if (!std::getenv("TALLY_JWT_SECRET")) {
    spdlog::error("set TALLY_JWT_SECRET: every process of a Kafka deployment shares it");
    return 2;
  }
  const std::string secret = jwt_secret(o.data_dir, false);
  auto st = open_stores(o.data_dir, o.min_free_disk_mb << 20, &o);
  if (!st) {
    spdlog::error("{}", st.err().detail);
    return 1;
  }
  // Partitions follow the group: one that is lost is not taken back here.
  st->kafka->set_reacquire(false);
  process_clock clocks(o);
  infra::test_clock* test_clock = clocks.test.get();
  const clock_source& clock = clocks.now();

  commands::command_bus bus(*st->log, *st->state, clock, {});
  commands::scheduler scheduler(bus, clock, *st->state);
  bus.set_scheduler(&scheduler);
  (void)bus.start_empty();
  scheduler.start_empty();
  infra::kafka_options ko;
  ko.bootstrap = o.kafka;
  ko.topic = o.topic;
  auto board = infra::owners_board::open(ko, "tally.owners");
  if (!board) {
    spdlog::error("{}", board.err().detail);
    return 1;
  }
  gateway::http_forwarder forwarder(2);
  gateway::gateway_routes routes;
  routes.projector_url = o.projector_url;
  routes.self_url = o.advertise;
  routes.decides = [&](std::int32_t p) { return bus.owns(p); };
  routes.owner = [&](std::int32_t p) { return (*board)->owner(p); };
  routes.send = [&](const std::string& url, gateway::http_request r, gateway::respond_fn done) {
    forwarder.send(url, std::move(r), std::move(done));
  };
  gateway::token_verifier verifier(secret);
  auto audit_key = load_audit_key(o);
  if (!audit_key) return 1;
  memory_returner trimmer;
  gateway::http_server::options http_options{o.host, o.port, o.threads};
  http_options.stream_upstream = o.projector_url;
  gateway::http_server server(http_options, clock);
  std::unique_ptr<deployment_clock> shared_clock;
  if (test_clock) shared_clock = std::make_unique<deployment_clock>(*test_clock, **board);
  gateway::api api({bus, nullptr, nullptr, *st->log, clock, verifier, shared_clock.get(),
                    server.schedule(), &server.metrics(), &routes, secret,
                    webhooks::outbound_policy::from_list(o.webhook_allow_hosts), nullptr,
                    gateway::cors_policy::from_list(o.cors_origins),
                    [&](metrics_text& m) { scheduler_metrics(m, scheduler); }, &*audit_key});
  std::unique_ptr<infra::kafka_group> group;
  std::thread joining;
  std::atomic<bool> stopped{false};
  auto s = server.run(api, nullptr, [&](const std::string& endpoint) {
    if (routes.self_url.empty()) routes.self_url = "http://" + endpoint;
    if (shared_clock) shared_clock->join(routes.self_url);
    joining = std::thread([&, endpoint] {
      auto g = infra::kafka_group::join(ko, "tally-gateways",
                                        {[&](std::int32_t p) {
                                           // Fence the old writer, read to the end, then say so.
                                           for (int attempt = 0; attempt < 5; ++attempt) {
                                             auto owned = st->kafka->own(p);
                                             if (owned) owned = bus.take(p);
                                             if (owned)
                                               owned = (*board)->publish(p, routes.self_url);
                                             if (owned) {
                                               spdlog::info("partition {}: decided here", p);
                                               return;
                                             }
                                             spdlog::warn("partition {}: cannot take it yet: {}", p,
                                                          owned.err().detail);
                                             std::this_thread::sleep_for(std::chrono::seconds(1));
                                           }
                                         },
                                         [&](std::int32_t p) {
                                           bus.drop(p);
                                           st->kafka->release(p);
                                           spdlog::info("partition {}: given up", p);
                                         }});
      if (!g) {
        spdlog::error("cannot join the gateways' group: {}", g.err().detail);
        server.stop();
        return;
      }
      group = std::move(*g);
      // Ready once every partition has an owner this gateway knows.
      while (!stopped &&
             !(*board)->wait_complete(st->log->partition_count(), std::chrono::seconds(1))) {
      }
      if (!stopped) std::cout << "listening on http://" << endpoint << std::endl;
    });
  });
  stopped = true;
  if (joining.joinable()) joining.join();
  group.reset();  // leaves the group: every partition is dropped first
  scheduler.stop();
  bus.stop();
  if (!s) {
    spdlog::error("{}", s.err().detail);
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

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
  return 0;
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

namespace {

std::optional<boost::json::object> read_json_file(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(text.str(), ec);
  if (!in || ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::string member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A signed head (GET /v1/audit/head) against the key (GET /v1/audit/key) and
// the hashes an export's chain verified, by tenant and position.
int check_head(const verify_options& o,
               const std::map<std::string, std::map<std::string, std::string>>& hashes) {
  auto head = read_json_file(o.head);
  auto key = o.key.empty() ? std::nullopt : read_json_file(o.key);
  if (!head || !key) {
    std::cout << "cannot read " << (!head ? o.head : o.key) << " as JSON\n";
    return 2;
  }
  const auto x = from_base64url(member(*key, "x"));
  const auto signature = from_base64url(member(*head, "signature"));
  if (member(*key, "kty") != "OKP" || member(*key, "crv") != "Ed25519" || !x || x->size() != 32) {
    std::cout << o.key << " is not an Ed25519 public key (JWK)\n";
    return 2;
  }
  const std::string tenant = member(*head, "tenant"), position = member(*head, "position"),
                    hash = member(*head, "hash");
  const std::string what = "the head of " + tenant + " at " +
                           (position.empty() ? std::string("the start") : position) +
                           " signed at " + member(*head, "signed_at");
  if (member(*head, "kid") != ed25519_kid(*x)) {
    std::cout << what << ": signed with another key (kid " << member(*head, "kid") << ")\n";
    return 1;
  }
  auto unsigned_head = *head;
  unsigned_head.erase("signature");
  if (!signature || !ed25519_verify(*x, canonical_json(unsigned_head), *signature)) {
    std::cout << what << ": the signature does not verify (the head was changed)\n";
    return 1;
  }
  if (!position.empty()) {
    const auto t = hashes.find(tenant);
    if (t == hashes.end() || !t->second.contains(position)) {
      std::cout << what << ": the export has no verified event at " << position << "\n";
      return 1;
    }
    if (t->second.at(position) != hash) {
      std::cout << what << ": the event at " << position
                << " is not the one signed (the history before the head was rewritten)\n";
      return 1;
    }
  }
  std::cout << what << ": holds (signed by " << member(*head, "kid") << ")\n";
  return 0;
}

int chain_report_out(const std::vector<projections::chain_report>& reports) {
  int code = 0;
  for (const auto& r : reports) {
    if (r.ok) {
      std::cout << r.tenant << ": ok, " << r.events << " events, head " << r.head << "\n";
    } else {
      std::cout << r.tenant << ": broken at " << (r.position.empty() ? "?" : r.position) << ": "
                << r.reason << " (" << r.events << " events verified before it)\n";
      code = 1;
    }
  }
  std::cout.flush();
  return code;
}

}  // namespace

int verify(const verify_options& o, const serve_options& log_options) {
  if (!o.file.empty()) {
    std::ifstream in(o.file);
    if (!in) {
      spdlog::error("cannot read {}", o.file);
      return 2;
    }
    std::map<std::string, chain_verifier> chains;
    std::map<std::string, std::map<std::string, std::string>> hashes;  // tenant: position: hash
    std::string line;
    std::int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      const auto* t = !ec && v.is_object() ? v.as_object().if_contains("tenant") : nullptr;
      if (!t || !t->is_string()) {
        std::cout << o.file << ":" << n << ": not an event\n";
        return 1;
      }
      const std::string tenant(t->as_string());
      if (!o.tenant.empty() && tenant != o.tenant) continue;
      std::string position;
      if (const auto* p = v.as_object().if_contains("position"); p && p->is_string())
        position = std::string(p->as_string());
      if (chains[tenant].add(line)) hashes[tenant][position] = chains[tenant].head();
    }
    std::vector<projections::chain_report> reports;
    for (const auto& [tenant, v] : chains) reports.push_back(projections::report_of(tenant, v));
    int code = chain_report_out(reports);
    if (!o.head.empty()) code = std::max(code, check_head(o, hashes));
    return code;
  }
  if (log_options.kafka.empty() && !fs::exists(fs::path(log_options.data_dir) / "log")) {
    spdlog::error("no log in {} (on Kafka: --kafka HOST:PORT)", log_options.data_dir);
    return 2;
  }
  auto st =
      open_stores(log_options.data_dir, infra::rocks_db::default_min_free_bytes, &log_options);
  if (!st) {
    spdlog::error("{}", st.err().detail);
    return 2;
  }
  auto reports = projections::verify_chains(
      *st->log, o.tenant.empty() ? std::nullopt : std::optional(ids::tenant{o.tenant}));
  if (!reports) {
    spdlog::error("{}", reports.err().detail);
    return 2;
  }
  return chain_report_out(*reports);
}

namespace {
std::atomic<bool> stop_requested{false};
extern "C" void on_stop_signal(int) { stop_requested = true; }
}  // namespace

int dev_kafka(std::int32_t partitions, const std::string& listen) {
  infra::dev_kafka::options o;
  o.partitions = partitions;
  o.listen = listen;
  auto k = infra::dev_kafka::start(o);
  if (!k) {
    spdlog::error("{}", k.err().detail);
    return 1;
  }
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::cout << "bootstrap " << (*k)->bootstrap() << std::endl;
  // Fault commands, one per line, each answered on stdout. stdin is read
  // without blocking the stop: poll() with a timeout.
  std::string pending;
  bool stdin_open = true;
  while (!stop_requested) {
    if (!stdin_open) {
      ::pause();
      continue;
    }
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&fd, 1, 200) <= 0) continue;
    char buf[512];
    const auto n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      stdin_open = false;  // no more commands; run until stopped
      continue;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty()) continue;
      std::cout << (*k)->command(line) << std::endl;
    }
  }
  return 0;
}

}  // namespace tally::app
