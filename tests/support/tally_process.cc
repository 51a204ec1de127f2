#include "support/tally_process.h"

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tally::testing {

namespace fs = std::filesystem;

temp_dir::temp_dir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() /
          ("tally-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

run_result run_tally(const std::vector<std::string>& args) {
  std::string cmd = TALLY_BINARY;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>/dev/null";
  run_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r;
}

tally_server::tally_server(const std::string& data_dir, bool test_clock) : data_dir_(data_dir) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  pid_ = ::fork();
  if (pid_ == 0) {
    // The server dies with the test, even if the test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0 && !std::getenv("TALLY_TEST_LOGS")) ::dup2(devnull, STDERR_FILENO);
    std::vector<std::string> args{TALLY_BINARY, "serve",    "--data",
                                  data_dir,     "--listen", "127.0.0.1:0"};
    if (test_clock) args.emplace_back("--test-clock");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(TALLY_BINARY, argv.data());
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
                                const std::string& sub, const std::string& ttl) const {
  std::vector<std::string> args{"token",  "--data", data_dir_, "--tenant", tenant,
                                "--role", role,     "--ttl",   ttl};
  if (!sub.empty()) {
    args.emplace_back("--sub");
    args.push_back(sub);
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
