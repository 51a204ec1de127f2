// tally: the one executable (API.md, "Running it").

#include "app/serve.h"
#include "gateway/auth.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <unistd.h>

namespace {

std::optional<std::chrono::seconds> parse_ttl(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || n <= 0) return std::nullopt;
  const std::string unit(end, s.data() + s.size());
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::seconds(n * 60);
  if (unit == "h") return std::chrono::seconds(n * 3600);
  if (unit == "d") return std::chrono::seconds(n * 86400);
  return std::nullopt;
}

bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned p = 0;
  auto [end, ec] = std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), p);
  if (ec != std::errc{} || end != listen.data() + listen.size() || p > 65535) return false;
  port = static_cast<std::uint16_t>(p);
  return true;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries what scripts read ("listening on ...", tokens); logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("tally"));
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App cli{"Tally: an event-sourced backend for businesses that sell by the session"};
  cli.require_subcommand(1);

  cli.set_version_flag("--version", std::string("tally ") + TALLY_VERSION);
  std::string config_file;
  const char* config_help =
      "TOML settings file (flags win over it, it wins over TALLY_* variables)";
  cli.add_option("--config", config_file, config_help);

  // serve, projector and gateway: one set of settings, each with a flag, a
  // TOML key and a TALLY_* variable (flags win over TOML, TOML over the
  // environment), and one help text that names all three.
  struct process {
    CLI::App* app;
    tally::app::serve_options opts;
    std::string listen;
  };
  std::vector<std::unique_ptr<process>> processes;
  struct setting {
    const char* flag;
    const char* env;
    const char* key;
  };
  std::vector<std::pair<process*, setting>> settings;
  auto add_process = [&](const char* name, const char* description) {
    auto& p = *processes.emplace_back(std::make_unique<process>());
    p.app = cli.add_subcommand(name, description);
    p.app->add_option("--config", config_file, config_help);
    return &p;
  };
  // An option of a process that also comes from TOML `key` and variable `env`.
  auto option = [&](process* p, setting st, auto& target, const std::string& help) {
    settings.emplace_back(p, st);
    return p->app->add_option(st.flag, target, help + "; env " + st.env + ", TOML " + st.key + ")");
  };
  const char* allow_help =
      "hosts webhooks may reach over http or at private, loopback or link-local addresses, "
      "comma-separated (default none";
  const char* cors_help =
      "browser origins allowed to call the API, comma-separated (https://app.example.com), or * "
      "(default none";
  auto common = [&](process* p, const char* data_help, const char* kafka_help) {
    option(p, {"--data", "TALLY_DATA", "data"}, p->opts.data_dir, data_help);
    option(p, {"--listen", "TALLY_LISTEN", "listen"}, p->listen,
           "HOST:PORT to listen on (default 127.0.0.1:8080");
    option(p, {"--kafka", "TALLY_KAFKA", "kafka"}, p->opts.kafka, kafka_help);
    option(p, {"--topic", "TALLY_TOPIC", "topic"}, p->opts.topic,
           "the Kafka topic of events (default tally.events");
    option(p, {"--threads", "TALLY_THREADS", "threads"}, p->opts.threads, "HTTP threads (default 2")
        ->check(CLI::Range(1, 64));
    p->app->add_flag("--test-clock", p->opts.test_clock,
                     "enable /v1/admin/clock (never in production; a flag only)");
    option(p, {"--webhook-allow-hosts", "TALLY_WEBHOOK_ALLOW_HOSTS", "webhook_allow_hosts"},
           p->opts.webhook_allow_hosts, allow_help);
    option(p, {"--cors-origins", "TALLY_CORS_ORIGINS", "cors_origins"}, p->opts.cors_origins,
           cors_help);
    option(p, {"--audit-key", "TALLY_AUDIT_KEY", "audit_key"}, p->opts.audit_key,
           "Ed25519 private key (PEM) that signs chain heads, made if missing (default "
           "<data>/audit-key.pem; Kafka mode: the same file for every process");
  };

  auto* served = add_process(
      "serve", "run gateway, deciders and projector in one process on the embedded log");
  common(served, "data directory (default ./tally-data",
         "HOST:PORT of a Kafka cluster to use as the log (default: the embedded log");
  option(served, {"--min-free-disk-mb", "TALLY_MIN_FREE_DISK_MB", "min_free_disk_mb"},
         served->opts.min_free_disk_mb,
         "refuse writes (503) while the data disk has less free (default 64")
      ->check(CLI::Range(0, 1 << 20));
  auto* serve = served->app;

  auto* projected = add_process(
      "projector",
      "Kafka mode: a read replica over every partition of the topic (read models in --data); "
      "serves every query, history, /v1/events and /v1/stream; TALLY_JWT_SECRET must be set");
  projected->opts.process = tally::app::serve_options::role::projector;
  common(projected, "data directory: the read models (default ./tally-data",
         "HOST:PORT of the Kafka cluster (required");
  projected->app->add_flag("--dispatch-webhooks", projected->opts.dispatch_webhooks,
                           "deliver webhooks from this projector (run exactly one such "
                           "projector per deployment; default off; a flag only)");
  auto* projector = projected->app;

  auto* gatewayed = add_process(
      "gateway",
      "Kafka mode: takes commands for the partitions its consumer group gives it, forwards the "
      "others to their gateway, and passes reads on to a projector; TALLY_JWT_SECRET must be "
      "set");
  common(gatewayed, "data directory: the deciders' store (default ./tally-data",
         "HOST:PORT of the Kafka cluster (required");
  option(gatewayed, {"--projector", "TALLY_PROJECTOR", "projector"}, gatewayed->opts.projector_url,
         "URL of the projector that serves reads, e.g. http://10.0.0.5:8080 (required");
  option(gatewayed, {"--advertise", "TALLY_ADVERTISE", "advertise"}, gatewayed->opts.advertise,
         "URL the other gateways reach this one at (default http://<listen>");
  auto* gateway = gatewayed->app;

  std::int32_t dev_partitions = 4;
  std::string dev_listen;
  auto* dev_kafka = cli.add_subcommand(
      "dev-kafka",
      "run a development Kafka broker (librdkafka's mock cluster, nothing kept on disk) until "
      "SIGTERM; prints `bootstrap HOST:PORT`; reads faults on stdin: down, up, rtt MS, "
      "delay-commit MS, fence");
  dev_kafka->add_option("--partitions", dev_partitions, "partitions of tally.events (default 4)")
      ->check(CLI::Range(1, 1000));
  dev_kafka->add_option("--listen", dev_listen,
                        "HOST:PORT to bootstrap from (default: the mock's own port; clients then "
                        "talk to the mock's port on this machine)");

  std::string token_data = "./tally-data", token_tenant, token_sub, token_name, token_ttl = "1h";
  std::vector<std::string> token_roles;
  auto* token = cli.add_subcommand("token", "print a signed bearer token");
  token->add_option("--data", token_data,
                    "data directory holding the secret (unless TALLY_JWT_SECRET is set)");
  token->add_option("--tenant", token_tenant, "tenant id")->required();
  token
      ->add_option("--role", token_roles,
                   "role (repeatable): admin, host, warehouse, auditor, customer, public")
      ->required();
  token->add_option("--sub", token_sub, "user id (default: the first role)");
  token->add_option("--name", token_name, "display name");
  token->add_option("--ttl", token_ttl, "lifetime such as 30m, 1h, 7d (default 1h)");

  tally::app::serve_options migrate_opts;
  auto* migrate = cli.add_subcommand(
      "migrate", "copy an embedded log into an empty Kafka topic (server stopped)");
  migrate->add_option("--data", migrate_opts.data_dir, "data directory (default ./tally-data)");
  migrate->add_option("--kafka", migrate_opts.kafka, "HOST:PORT of the Kafka cluster")->required();
  migrate->add_option("--topic", migrate_opts.topic, "the Kafka topic (default tally.events)");

  tally::app::serve_options rebuild_opts;
  auto* rebuild = cli.add_subcommand(
      "rebuild",
      "drop and rebuild every read model from the log, and empty the deciders' store for the "
      "next start to replay (server stopped); exit 1 naming any tenant still stopped at a record "
      "that cannot be read");
  rebuild->add_option("--data", rebuild_opts.data_dir, "data directory (default ./tally-data)");
  rebuild->add_option("--kafka", rebuild_opts.kafka,
                      "HOST:PORT of the Kafka cluster whose topic is the log (default: the "
                      "embedded log in the data directory)");
  rebuild->add_option("--topic", rebuild_opts.topic, "the Kafka topic (default tally.events)");
  bool rebuild_verify = false;
  rebuild->add_flag("--verify", rebuild_verify,
                    "rebuild beside the live read models and compare them (a digest per read "
                    "model); exit 1 naming the first difference; the live ones stay");

  tally::app::serve_options verify_log;
  tally::app::verify_options verify_opts;
  auto* verify = cli.add_subcommand(
      "verify",
      "check the tenants' hash chains (docs/audit.md): exit 0 when they hold, 1 naming the first "
      "broken position");
  verify->add_option("--data", verify_log.data_dir,
                     "data directory whose embedded log to read (default ./tally-data; the server "
                     "stopped)");
  verify->add_option("--kafka", verify_log.kafka,
                     "HOST:PORT of the Kafka cluster whose topic to read instead");
  verify->add_option("--topic", verify_log.topic, "the Kafka topic (default tally.events)");
  verify->add_option("--tenant", verify_opts.tenant, "one tenant only (default: every tenant)");
  verify->add_option("--file", verify_opts.file,
                     "an export of GET /v1/events (NDJSON) to check instead of a log");
  verify->add_option("--head", verify_opts.head,
                     "with --file: a head from GET /v1/audit/head the export must hold");
  verify->add_option("--key", verify_opts.key,
                     "with --head: the key from GET /v1/audit/key that signed it");

  CLI11_PARSE(cli, argc, argv);

  // Settings: flags, else the TOML file, else TALLY_* variables. A TOML
  // array of strings is read as a comma-separated list.
  std::optional<toml::table> config;
  if (!config_file.empty()) {
    try {
      config = toml::parse_file(config_file);
    } catch (const toml::parse_error& e) {
      std::cerr << "cannot read " << config_file << ": " << e.description() << "\n";
      return 2;
    }
  }
  for (const auto& [p, st] : settings) {
    if (!*p->app || p->app->count(st.flag) > 0) continue;
    std::optional<std::string> value;
    std::string source;
    if (config) {
      const auto node = (*config)[st.key];
      if (auto v = node.value<std::string>())
        value = *v;
      else if (auto n = node.value<std::int64_t>())
        value = std::to_string(*n);
      else if (auto* list = node.as_array()) {
        value = "";
        for (const auto& item : *list)
          if (auto v = item.value<std::string>()) *value += (value->empty() ? "" : ",") + *v;
      }
    }
    if (value) source = std::string(st.key) + " in " + config_file;
    if (!value)
      if (const char* v = env(st.env)) value = v;
    if (!value) continue;
    if (source.empty()) source = st.env;
    // Through the option itself: the same conversion and checks as the flag.
    try {
      auto* opt = p->app->get_option(st.flag);
      opt->clear();
      opt->add_result(*value);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      std::cerr << source << ": " << e.what() << "\n";
      return 2;
    }
  }
  for (auto* p : {projected, gatewayed})
    if (*p->app && p->opts.kafka.empty()) {
      std::cerr << "--kafka is required (or TALLY_KAFKA, or kafka in the TOML file)\n";
      return 2;
    }
  if (*gateway && gatewayed->opts.projector_url.empty()) {
    std::cerr << "--projector is required (or TALLY_PROJECTOR, or projector in the TOML file)\n";
    return 2;
  }
  auto& serve_opts = served->opts;
  auto& listen = served->listen;
  auto& projector_opts = projected->opts;
  auto& projector_listen = projected->listen;
  auto& gateway_opts = gatewayed->opts;
  auto& gateway_listen = gatewayed->listen;

  if (*serve) {
    if (!listen.empty() && !split_listen(listen, serve_opts.host, serve_opts.port)) {
      std::cerr << "--listen must be HOST:PORT\n";
      return 2;
    }
    return tally::app::serve(serve_opts);
  }
  if (*token) {
    auto ttl = parse_ttl(token_ttl);
    if (!ttl) {
      std::cerr << "--ttl must be a number with s, m, h or d\n";
      return 2;
    }
    const std::string secret = tally::app::jwt_secret(token_data, false);
    if (secret.empty()) {
      std::cerr << "no secret: set TALLY_JWT_SECRET or run `tally serve --data " << token_data
                << "` once\n";
      return 1;
    }
    tally::gateway::token_request req{
        token_tenant, token_roles, token_sub.empty() ? token_roles.front() : token_sub,
        token_name.empty() ? std::nullopt : std::optional<std::string>(token_name), *ttl};
    auto t = tally::gateway::sign_token(secret, req);
    if (!t) {
      std::cerr << t.err().detail << "\n";
      return 2;
    }
    std::cout << *t << std::endl;
    return 0;
  }
  if (*projector) {
    if (!projector_listen.empty() &&
        !split_listen(projector_listen, projector_opts.host, projector_opts.port)) {
      std::cerr << "--listen must be HOST:PORT\n";
      return 2;
    }
    return tally::app::serve(projector_opts);
  }
  if (*gateway) {
    if (!gateway_listen.empty() &&
        !split_listen(gateway_listen, gateway_opts.host, gateway_opts.port)) {
      std::cerr << "--listen must be HOST:PORT\n";
      return 2;
    }
    return tally::app::gateway(gateway_opts);
  }
  if (*migrate) return tally::app::migrate(migrate_opts);
  if (*dev_kafka) return tally::app::dev_kafka(dev_partitions, dev_listen);
  if (*rebuild && rebuild_verify) return tally::app::rebuild_verify(rebuild_opts);
  if (*rebuild) return tally::app::rebuild(rebuild_opts, ::isatty(STDERR_FILENO) != 0);
  if (*verify) return tally::app::verify(verify_opts, verify_log);
  return 0;
}
