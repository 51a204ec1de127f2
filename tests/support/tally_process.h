#pragma once

// Starts the real `tally` executable for integration tests.

#include "support/http_client.h"
#include "support/kafka_cluster.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace tally::testing {

// The `tally` these tests run: the one this build made, or TALLY_TEST_BINARY
// (to show that a regression test fails on an older build).
const char* tally_binary();

// Waits (up to `limit`, looking every 50 ms) for `pred`; true if it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// A fresh data directory, removed at the end.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Runs `tally <args>` and returns its exit code and standard output.
struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// `sh -c CMD` to its end: its exit code and what it printed (standard
// output and error together).
run_result run_shell(const std::string& cmd);

// `tally ARGS` to its end (at most 120 s: then exit 124), with `env`
// ("NAME=value") added to the environment.
run_result run_tally(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {});

// `tally serve --data DIR --listen 127.0.0.1:0 [--test-clock]`, started on
// construction and waited for ("listening on http://…").
struct server_options {
  int max_open_files = 0;  // RLIMIT_NOFILE of the server; 0: inherited
  std::string log_file;  // where its standard error goes; "": nowhere (TALLY_TEST_LOGS: inherited)
  std::vector<std::string> extra_args;   // more flags for `tally serve`
  std::vector<std::string> global_args;  // flags before the subcommand (--config FILE)
  std::vector<std::string> env;          // NAME=VALUE set in the server's environment
  bool embedded = false;                 // the embedded log even when TALLY_TEST_KAFKA is set
  std::string subcommand = "serve";      // or "projector", "gateway"
  // Kafka mode with the dev-kafka of another data directory (processes of
  // one deployment share one cluster); "": its own.
  std::string kafka_of;
  bool kafka = false;      // Kafka (kafka_cluster.h) even when TALLY_TEST_KAFKA is not set
  bool dev_kafka = false;  // on a dev-kafka of its own, whatever the cluster (faults)
};

// With TALLY_TEST_KAFKA=1 (ctest's kafka/ tests) servers run `tally serve
// --kafka --topic …` on the data directory's cluster (kafka_cluster.h).

class tally_server {
 public:
  explicit tally_server(const std::string& data_dir, bool test_clock = true,
                        const server_options& limits = {});
  ~tally_server();

  [[nodiscard]] const std::string& base_url() const { return base_url_; }
  [[nodiscard]] std::string token(const std::string& role, const std::string& tenant = "acme",
                                  const std::string& sub = "", const std::string& ttl = "1h",
                                  const std::string& name = "") const;
  // An http_client with an admin token of `tenant`.
  [[nodiscard]] std::unique_ptr<http_client> client(const std::string& role = "admin",
                                                    const std::string& tenant = "acme") const;

  // The server's resident memory, from /proc (kB).
  [[nodiscard]] long rss_kb() const;
  // Its open file descriptors, from /proc/<pid>/fd.
  [[nodiscard]] long open_fds() const;
  // Of them, the sockets (RocksDB's open table files come and go with flushes).
  [[nodiscard]] long open_sockets() const;
  // CPU time it has used (user + system), from /proc/<pid>/stat.
  [[nodiscard]] std::chrono::milliseconds cpu_time() const;
  // A value from /metrics ("name" or "name{label=\"v\"}"), or -1.
  [[nodiscard]] double metric(const std::string& series) const;

  // SIGTERM and wait; returns the exit status (or -1).
  int stop();
  // SIGKILL: a crash.
  void kill9();

  // The cluster it runs on; "" on the embedded log.
  [[nodiscard]] const std::string& kafka() const { return kafka_.bootstrap; }
  // Its topic there.
  [[nodiscard]] const std::string& topic() const { return kafka_.topic; }

 private:
  std::string data_dir_;
  kafka_target kafka_;
  std::string base_url_;
  pid_t pid_ = -1;
};

}  // namespace tally::testing
