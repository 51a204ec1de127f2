#include "infra/dev_kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

namespace tally::infra {

namespace {
constexpr std::int16_t end_txn_api_key = 26;  // Kafka protocol: EndTxn
constexpr std::int32_t broker_id = 1;
}  // namespace

// Passes TCP connections from a listening socket on to the broker, bytes
// both ways, one thread for all of them (poll).
class forwarder {
 public:
  static result<std::unique_ptr<forwarder>> start(const std::string& listen,
                                                  const std::string& target) {
    auto [host, port] = split(listen);
    auto [thost, tport] = split(target);
    std::unique_ptr<forwarder> f(new forwarder());
    f->target_ = resolve(thost, tport);
    const auto at = resolve(host, port);
    if (!at || !f->target_)
      return make_error(errc::invalid_request, "--listen must be HOST:PORT: " + listen);
    f->listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(f->listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(f->listener_, reinterpret_cast<const sockaddr*>(&*at), sizeof(sockaddr_in)) != 0 ||
        ::listen(f->listener_, 64) != 0)
      return make_error(errc::unavailable,
                        "cannot listen on " + listen + ": " + std::strerror(errno));
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    ::getsockname(f->listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &bound.sin_addr, text, sizeof text);
    f->address_ = std::string(text) + ":" + std::to_string(ntohs(bound.sin_port));
    ::pipe2(f->wake_, O_CLOEXEC);
    f->thread_ = std::thread([p = f.get()] { p->run(); });
    return f;
  }
  ~forwarder() {
    const char c = 0;
    (void)!::write(wake_[1], &c, 1);
    if (thread_.joinable()) thread_.join();
    for (auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  forwarder() = default;
  static std::pair<std::string, std::string> split(const std::string& hp) {
    const auto colon = hp.rfind(':');
    if (colon == std::string::npos) return {hp, ""};
    return {hp.substr(0, colon), hp.substr(colon + 1)};
  }
  static std::optional<sockaddr_in> resolve(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (port.empty() || ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
      return std::nullopt;
    sockaddr_in out{};
    std::memcpy(&out, res->ai_addr, sizeof out);
    ::freeaddrinfo(res);
    return out;
  }
  void run() {
    for (;;) {
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
      for (const auto& [a, b] : pairs_) {
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) continue;
      if (fds[0].revents) return;
      // The pairs polled: a connection accepted below waits for the next turn.
      const std::size_t polled = pairs_.size();
      if (fds[1].revents & POLLIN) {
        const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) {
          const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          if (::connect(up, reinterpret_cast<const sockaddr*>(&*target_), sizeof(sockaddr_in)) ==
              0) {
            pairs_.emplace_back(client, up);
          } else {
            ::close(client);
            ::close(up);
          }
        }
      }
      std::vector<std::pair<int, int>> keep(pairs_.begin() + static_cast<std::ptrdiff_t>(polled),
                                            pairs_.end());
      for (std::size_t i = 0; i < polled; ++i) {
        const auto [a, b] = pairs_[i];
        bool open = true;
        for (auto [from, to, ev] :
             {std::tuple{a, b, fds[2 + 2 * i].revents}, std::tuple{b, a, fds[3 + 2 * i].revents}}) {
          if (!open || !ev) continue;
          char buf[65536];
          const auto n = ::read(from, buf, sizeof buf);
          if (n <= 0 || ::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n)
            open = false;
        }
        if (open) {
          keep.emplace_back(a, b);
        } else {
          ::close(a);
          ::close(b);
        }
      }
      pairs_ = std::move(keep);
    }
  }

  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::optional<sockaddr_in> target_;
  std::string address_;
  std::vector<std::pair<int, int>> pairs_;  // client, broker
  std::thread thread_;
};

struct dev_kafka::impl {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::unique_ptr<forwarder> listening;
  ~impl() {
    listening.reset();
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
    if (rk) rd_kafka_destroy(rk);
  }
};

result<std::unique_ptr<dev_kafka>> dev_kafka::start(const options& o) {
  if (o.partitions < 1 || o.partitions > 1000)
    return make_error(errc::invalid_request, "--partitions must be 1 to 1000");
  std::unique_ptr<dev_kafka> k(new dev_kafka());
  k->impl_ = std::make_unique<impl>();
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster: it never connects anywhere.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  k->impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!k->impl_->rk) {
    rd_kafka_conf_destroy(conf);
    return make_error(errc::internal, std::string("cannot start the mock cluster: ") + err);
  }
  k->impl_->cluster = rd_kafka_mock_cluster_new(k->impl_->rk, 1);
  if (!k->impl_->cluster) return make_error(errc::internal, "cannot start the mock cluster");
  for (const auto& [topic, partitions] :
       {std::pair{o.topic, o.partitions}, std::pair{o.owners_topic, std::int32_t{1}}}) {
    if (auto e = rd_kafka_mock_topic_create(k->impl_->cluster, topic.c_str(), partitions, 1); e)
      return make_error(errc::internal,
                        "cannot create topic " + topic + ": " + rd_kafka_err2str(e));
  }
  if (!o.listen.empty()) {
    auto f = forwarder::start(o.listen, rd_kafka_mock_cluster_bootstraps(k->impl_->cluster));
    if (!f) return std::move(f).take_error();
    k->impl_->listening = std::move(*f);
  }
  return k;
}

dev_kafka::~dev_kafka() = default;

std::string dev_kafka::bootstrap() const {
  if (impl_->listening) return impl_->listening->address();
  return rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

void dev_kafka::down() { rd_kafka_mock_broker_set_down(impl_->cluster, broker_id); }
void dev_kafka::up() { rd_kafka_mock_broker_set_up(impl_->cluster, broker_id); }
void dev_kafka::rtt(std::chrono::milliseconds delay) {
  rd_kafka_mock_broker_set_rtt(impl_->cluster, broker_id, static_cast<int>(delay.count()));
}
void dev_kafka::delay_commit(std::chrono::milliseconds delay) {
  rd_kafka_mock_broker_push_request_error_rtts(impl_->cluster, broker_id, end_txn_api_key, 1,
                                               RD_KAFKA_RESP_ERR_NO_ERROR,
                                               static_cast<int>(delay.count()));
}
void dev_kafka::fence() {
  rd_kafka_mock_push_request_errors(impl_->cluster, end_txn_api_key, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
}

std::string dev_kafka::command(const std::string& line) {
  auto millis = [&](std::size_t skip) -> std::optional<std::chrono::milliseconds> {
    if (line.size() <= skip) return std::nullopt;
    int v = 0;
    auto [end, ec] = std::from_chars(line.data() + skip, line.data() + line.size(), v);
    if (ec != std::errc{} || end != line.data() + line.size() || v < 0 || v > 600'000)
      return std::nullopt;
    return std::chrono::milliseconds(v);
  };
  if (line == "down") {
    down();
  } else if (line == "up") {
    up();
  } else if (line == "fence") {
    fence();
  } else if (line.starts_with("rtt ")) {
    auto ms = millis(4);
    if (!ms) return "error: rtt MS (0 to 600000)";
    rtt(*ms);
  } else if (line.starts_with("delay-commit ")) {
    auto ms = millis(13);
    if (!ms) return "error: delay-commit MS (0 to 600000)";
    delay_commit(*ms);
  } else {
    return "error: unknown command (down, up, rtt MS, delay-commit MS, fence)";
  }
  return "ok";
}

}  // namespace tally::infra
