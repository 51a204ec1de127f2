#include "app/serve.h"
#include "app/stores.h"

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
    ko.topic = o.topic;
    auto b = infra::owners_board::open(ko, infra::owners_topic_of(ko.topic));
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
  auto board = infra::owners_board::open(ko, infra::owners_topic_of(ko.topic));
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
      auto g = infra::kafka_group::join(ko, infra::gateway_group_of(ko.topic),
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
