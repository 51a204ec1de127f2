#include "support/tally_process.h"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tally::testing {

namespace fs = std::filesystem;

const char* tally_binary() {
  const char* other = std::getenv("TALLY_TEST_BINARY");
  return other && *other ? other : TALLY_BINARY;
}

temp_dir::temp_dir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() /
          ("tally-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

temp_dir::~temp_dir() {
  release_kafka(path_.string());
  std::error_code ec;
  fs::remove_all(path_, ec);
}

run_result run_shell(const std::string& cmd) {
  run_result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

run_result run_tally(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  char err_file[] = "/tmp/tally-run-err-XXXXXX";
  const int fd = ::mkstemp(err_file);
  if (fd >= 0) ::close(fd);
  // Bounded, so that a command that hangs fails its test (exit 124) instead
  // of holding the run.
  std::string cmd = "timeout -k 5 120 env";
  for (const auto& e : env) cmd += " '" + e + "'";
  cmd += std::string(" ") + tally_binary();
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += std::string(" 2>") + (fd >= 0 ? err_file : "/dev/null");
  run_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  if (fd >= 0) {
    std::ifstream in(err_file);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ::unlink(err_file);
  }
  return r;
}

tally_server::tally_server(const std::string& data_dir, bool test_clock,
                           const server_options& limits)
    : data_dir_(data_dir) {
  if (!limits.kafka_of.empty())
    kafka_ = kafka_for(limits.kafka_of, limits.dev_kafka);
  else if (limits.kafka || limits.dev_kafka || (kafka_mode() && !limits.embedded))
    kafka_ = kafka_for(data_dir, limits.dev_kafka);
  // Kafka mode's processes share one secret from the environment; `tally
  // token` (run by this process) must see the same.
  if (!kafka_.bootstrap.empty() && !std::getenv("TALLY_JWT_SECRET"))
    ::setenv("TALLY_JWT_SECRET", "tally-test-secret", 1);
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  pid_ = ::fork();
  if (pid_ == 0) {
    // The server dies with the test, even if the test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    if (!limits.log_file.empty()) {
      int log = ::open(limits.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log >= 0) ::dup2(log, STDERR_FILENO);
    } else {
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0 && !std::getenv("TALLY_TEST_LOGS")) ::dup2(devnull, STDERR_FILENO);
    }
    if (limits.max_open_files > 0) {
      rlimit rl{static_cast<rlim_t>(limits.max_open_files),
                static_cast<rlim_t>(limits.max_open_files)};
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (const auto& kv : limits.env) ::putenv(::strdup(kv.c_str()));
    std::vector<std::string> args{tally_binary()};
    args.insert(args.end(), limits.global_args.begin(), limits.global_args.end());
    args.insert(args.end(), {limits.subcommand, "--data", data_dir, "--listen", "127.0.0.1:0"});
    if (test_clock) args.emplace_back("--test-clock");
    if (!kafka_.bootstrap.empty())
      args.insert(args.end(), {"--kafka", kafka_.bootstrap, "--topic", kafka_.topic});
    args.insert(args.end(), limits.extra_args.begin(), limits.extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(tally_binary(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos) {
    pollfd pfd{out[0], POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline || ::poll(&pfd, 1, 200) < 0) break;
    if (pfd.revents & (POLLIN | POLLHUP)) {
      char buf[256];
      const auto n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(out[0]);
  const std::string prefix = "listening on ";
  const auto at = line.find(prefix);
  if (at == std::string::npos) {
    kill9();
    throw std::runtime_error("tally serve did not start: " + line);
  }
  base_url_ = line.substr(at + prefix.size());
  base_url_ = base_url_.substr(0, base_url_.find('\n'));
}

tally_server::~tally_server() {
  if (pid_ > 0) kill9();
}

std::string tally_server::token(const std::string& role, const std::string& tenant,
                                const std::string& sub, const std::string& ttl,
                                const std::string& name) const {
  std::vector<std::string> args{"token",  "--data", data_dir_, "--tenant", tenant,
                                "--role", role,     "--ttl",   ttl};
  if (!sub.empty()) {
    args.emplace_back("--sub");
    args.push_back(sub);
  }
  if (!name.empty()) {
    args.emplace_back("--name");
    args.push_back(name);
  }
  return run_tally(args).out;
}

std::unique_ptr<http_client> tally_server::client(const std::string& role,
                                                  const std::string& tenant) const {
  auto c = std::make_unique<http_client>(base_url_);
  c->token = token(role, tenant);
  return c;
}

long tally_server::rss_kb() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

long tally_server::open_fds() const {
  std::error_code ec;
  long n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid_) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

long tally_server::open_sockets() const {
  std::error_code ec;
  long n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid_) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code link_ec;
    const auto target = fs::read_symlink(it->path(), link_ec).string();
    if (!link_ec && target.rfind("socket:", 0) == 0) ++n;
  }
  return ec ? -1 : n;
}

std::chrono::milliseconds tally_server::cpu_time() const {
  std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which is in parentheses): utime is the 14th
  // field of the line, stime the 15th.
  const auto close = all.rfind(')');
  if (close == std::string::npos) return std::chrono::milliseconds(-1);
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  const long hz = ::sysconf(_SC_CLK_TCK);
  return std::chrono::milliseconds((utime + stime) * 1000 / hz);
}

double tally_server::metric(const std::string& series) const {
  http_client c(base_url_);
  auto r = c.get("/metrics");
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

int tally_server::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
  return -1;
}

void tally_server::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace tally::testing
