#pragma once

#include <cstdint>
#include <string>

namespace tally::app {

struct serve_options {
  std::string data_dir = "./tally-data";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  bool test_clock = false;
  std::size_t threads = 2;
  // Writes are refused (503) while the data directory's disk has less free.
  std::uint64_t min_free_disk_mb = 64;
  // Kafka mode: the bootstrap HOST:PORT and the topic; empty: the embedded log.
  std::string kafka;
  std::string topic = "tally.events";
  // What this process is: everything (serve), or a read replica over every
  // partition of the topic (tally projector).
  enum class role { all, projector } process = role::all;
  // tally gateway: the projector that serves reads, and how other gateways
  // reach this one ("": http://<listen address>).
  std::string projector_url;
  std::string advertise;
  // Webhooks: hosts that may be sent to over http or at internal addresses
  // (comma-separated), and whether a projector process dispatches them
  // (serve always does; run one dispatching projector per deployment).
  std::string webhook_allow_hosts;
  // Browser origins allowed to call the API (comma-separated, or *); none by default.
  std::string cors_origins;
  bool dispatch_webhooks = false;
  // The Ed25519 key (PEM) that signs chain heads; "": <data>/audit-key.pem,
  // made on first start. Kafka mode: give every process the same file.
  std::string audit_key;
};

// `tally gateway`: Kafka mode's command side, sharing the partitions with
// the other gateways of its consumer group.
int gateway(const serve_options& options);

// `tally serve`: the single process over the embedded log. Returns the exit code.
int serve(const serve_options& options);

// `tally dev-kafka`: the mock cluster until SIGTERM, faults read from stdin.
int dev_kafka(std::int32_t partitions, const std::string& listen);

// `tally verify`: every tenant's hash chain (or one's), from the log of a
// data directory or a Kafka topic (`log`), or from an export of
// GET /v1/events (`file`). Exit 0 when every chain holds, 1 naming the first
// broken position of each that does not, 2 when it cannot read.
struct verify_options {
  std::string tenant;  // "": every tenant
  std::string file;    // NDJSON as GET /v1/events serves it
  // With file: a head from GET /v1/audit/head and the key from
  // GET /v1/audit/key; the export must hold that head, signed by that key.
  std::string head;
  std::string key;
};
int verify(const verify_options& options, const serve_options& log);

// `tally rebuild`: drops the read models and rebuilds them from the log.
// On Kafka (options.kafka set) from the topic.
int rebuild(const serve_options& options, bool progress_bar);
// `tally rebuild --verify`: rebuilds the read models beside the live ones
// (<data>/views-verify, removed after) and compares them, a digest per read
// model. Exit 0 when all are the same, 1 naming each that differs and its
// first differing key, 2 when it cannot run.
int rebuild_verify(const serve_options& options);

// `tally migrate`: copies the embedded log in options.data_dir into the
// Kafka topic (options.kafka, options.topic), which must be empty.
int migrate(const serve_options& options);

// The token secret: TALLY_JWT_SECRET, else <data>/jwt-secret, made on first
// use when `create`.
std::string jwt_secret(const std::string& data_dir, bool create);

}  // namespace tally::app
