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

  tally::app::serve_options serve_opts;
  std::string listen;
  auto* serve = cli.add_subcommand(
      "serve", "run gateway, deciders and projector in one process on the embedded log");
  serve->add_option("--config", config_file, config_help);
  serve->add_option("--data", serve_opts.data_dir,
                    "data directory (default ./tally-data; env TALLY_DATA, TOML data)");
  serve->add_option(
      "--listen", listen,
      "HOST:PORT to listen on (default 127.0.0.1:8080; env TALLY_LISTEN, TOML listen)");
  serve->add_flag("--test-clock", serve_opts.test_clock,
                  "enable /v1/admin/clock (never in production)");
  serve->add_option("--threads", serve_opts.threads, "HTTP threads (default 2; TOML threads)")
      ->check(CLI::Range(1, 64));
  serve
      ->add_option("--min-free-disk-mb", serve_opts.min_free_disk_mb,
                   "refuse writes (503) while the data disk has less free (default 64; env "
                   "TALLY_MIN_FREE_DISK_MB, TOML min_free_disk_mb)")
      ->check(CLI::Range(0, 1 << 20));
  serve->add_option("--kafka", serve_opts.kafka,
                    "HOST:PORT of a Kafka cluster to use as the log (default: the embedded log; "
                    "env TALLY_KAFKA, TOML kafka)");
  serve->add_option("--topic", serve_opts.topic,
                    "the Kafka topic of events (default tally.events; TOML topic)");

  const char* allow_help =
      "hosts webhooks may reach over http or at private, loopback or link-local addresses, "
      "comma-separated (default none; env TALLY_WEBHOOK_ALLOW_HOSTS, TOML webhook_allow_hosts)";
  serve->add_option("--webhook-allow-hosts", serve_opts.webhook_allow_hosts, allow_help);
  const char* cors_help =
      "browser origins allowed to call the API, comma-separated (https://app.example.com), or * "
      "(default none; env TALLY_CORS_ORIGINS, TOML cors_origins)";
  serve->add_option("--cors-origins", serve_opts.cors_origins, cors_help);

  tally::app::serve_options projector_opts;
  projector_opts.process = tally::app::serve_options::role::projector;
  std::string projector_listen;
  auto* projector = cli.add_subcommand(
      "projector",
      "Kafka mode: a read replica over every partition of the topic (read models in --data); "
      "serves every query, history, /v1/events and /v1/stream; TALLY_JWT_SECRET must be set");
  projector->add_option("--config", config_file, config_help);
  projector->add_option("--kafka", projector_opts.kafka, "HOST:PORT of the Kafka cluster")
      ->required();
  projector->add_option("--topic", projector_opts.topic, "the Kafka topic (default tally.events)");
  projector->add_option("--data", projector_opts.data_dir, "data directory (default ./tally-data)");
  projector->add_option("--listen", projector_listen, "HOST:PORT (default 127.0.0.1:8080)");
  projector->add_flag("--test-clock", projector_opts.test_clock,
                      "enable /v1/admin/clock (never in production)");
  projector->add_option("--threads", projector_opts.threads, "HTTP threads (default 2)")
      ->check(CLI::Range(1, 64));
  projector->add_option("--webhook-allow-hosts", projector_opts.webhook_allow_hosts, allow_help);
  projector->add_option("--cors-origins", projector_opts.cors_origins, cors_help);
  projector->add_flag("--dispatch-webhooks", projector_opts.dispatch_webhooks,
                      "deliver webhooks from this projector (run exactly one such projector "
                      "per deployment; default off)");

  tally::app::serve_options gateway_opts;
  std::string gateway_listen;
  auto* gateway = cli.add_subcommand(
      "gateway",
      "Kafka mode: takes commands for the partitions its consumer group gives it, forwards the "
      "others to their gateway, and passes reads on to a projector; TALLY_JWT_SECRET must be "
      "set");
  gateway->add_option("--config", config_file, config_help);
  gateway->add_option("--kafka", gateway_opts.kafka, "HOST:PORT of the Kafka cluster")->required();
  gateway->add_option("--topic", gateway_opts.topic, "the Kafka topic (default tally.events)");
  gateway->add_option("--data", gateway_opts.data_dir,
                      "data directory: the deciders' store (default ./tally-data)");
  gateway->add_option("--listen", gateway_listen, "HOST:PORT (default 127.0.0.1:8080)");
  gateway
      ->add_option("--projector", gateway_opts.projector_url,
                   "URL of the projector that serves reads, e.g. http://10.0.0.5:8080")
      ->required();
  gateway->add_option("--advertise", gateway_opts.advertise,
                      "URL the other gateways reach this one at (default http://<listen>)");
  gateway->add_flag("--test-clock", gateway_opts.test_clock,
                    "enable /v1/admin/clock (never in production)");
  gateway->add_option("--threads", gateway_opts.threads, "HTTP threads (default 2)")
      ->check(CLI::Range(1, 64));
  gateway->add_option("--webhook-allow-hosts", gateway_opts.webhook_allow_hosts, allow_help);
  gateway->add_option("--cors-origins", gateway_opts.cors_origins, cors_help);

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
      "rebuild", "drop and rebuild every read model from the log (server stopped)");
  rebuild->add_option("--data", rebuild_opts.data_dir, "data directory (default ./tally-data)");
  rebuild->add_option("--kafka", rebuild_opts.kafka,
                      "HOST:PORT of the Kafka cluster whose topic is the log (default: the "
                      "embedded log in the data directory)");
  rebuild->add_option("--topic", rebuild_opts.topic, "the Kafka topic (default tally.events)");

  CLI11_PARSE(cli, argc, argv);

  // Settings: TALLY_* variables, then the TOML file, then flags.
  if (const char* v = env("TALLY_DATA"); v && serve->count("--data") == 0) serve_opts.data_dir = v;
  if (const char* v = env("TALLY_LISTEN"); v && listen.empty()) listen = v;
  if (const char* v = env("TALLY_KAFKA"); v && serve->count("--kafka") == 0) serve_opts.kafka = v;
  if (const char* v = env("TALLY_MIN_FREE_DISK_MB"); v && serve->count("--min-free-disk-mb") == 0)
    serve_opts.min_free_disk_mb = std::strtoull(v, nullptr, 10);
  struct with_hooks {
    CLI::App* app;
    tally::app::serve_options* opts;
  };
  const with_hooks hooked[] = {
      {serve, &serve_opts}, {projector, &projector_opts}, {gateway, &gateway_opts}};
  if (const char* v = env("TALLY_WEBHOOK_ALLOW_HOSTS"))
    for (const auto& h : hooked)
      if (h.app->count("--webhook-allow-hosts") == 0) h.opts->webhook_allow_hosts = v;
  if (const char* v = env("TALLY_CORS_ORIGINS"))
    for (const auto& h : hooked)
      if (h.app->count("--cors-origins") == 0) h.opts->cors_origins = v;
  if (!config_file.empty()) {
    try {
      auto t = toml::parse_file(config_file);
      // A string ("a,b") or an array of strings.
      std::optional<std::string> hosts = t["webhook_allow_hosts"].value<std::string>();
      if (auto* list = t["webhook_allow_hosts"].as_array()) {
        hosts = "";
        for (const auto& item : *list)
          if (auto s = item.value<std::string>()) *hosts += (hosts->empty() ? "" : ",") + *s;
      }
      if (hosts)
        for (const auto& h : hooked)
          if (h.app->count("--webhook-allow-hosts") == 0) h.opts->webhook_allow_hosts = *hosts;
      std::optional<std::string> origins = t["cors_origins"].value<std::string>();
      if (auto* list = t["cors_origins"].as_array()) {
        origins = "";
        for (const auto& item : *list)
          if (auto s = item.value<std::string>()) *origins += (origins->empty() ? "" : ",") + *s;
      }
      if (origins)
        for (const auto& h : hooked)
          if (h.app->count("--cors-origins") == 0) h.opts->cors_origins = *origins;
      if (serve->count("--data") == 0)
        if (auto v = t["data"].value<std::string>()) serve_opts.data_dir = *v;
      if (serve->count("--listen") == 0)
        if (auto v = t["listen"].value<std::string>()) listen = *v;
      if (serve->count("--min-free-disk-mb") == 0)
        if (auto v = t["min_free_disk_mb"].value<std::int64_t>(); v && *v >= 0)
          serve_opts.min_free_disk_mb = static_cast<std::uint64_t>(*v);
      if (serve->count("--kafka") == 0)
        if (auto v = t["kafka"].value<std::string>()) serve_opts.kafka = *v;
      if (serve->count("--topic") == 0)
        if (auto v = t["topic"].value<std::string>()) serve_opts.topic = *v;
      if (serve->count("--threads") == 0)
        if (auto v = t["threads"].value<std::int64_t>())
          serve_opts.threads = static_cast<std::size_t>(*v);
    } catch (const toml::parse_error& e) {
      std::cerr << "cannot read " << config_file << ": " << e.description() << "\n";
      return 2;
    }
  }

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
  if (*rebuild) return tally::app::rebuild(rebuild_opts, ::isatty(STDERR_FILENO) != 0);
  return 0;
}
