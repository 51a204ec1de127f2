#include "infra/dev_kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <charconv>
#include <optional>

namespace tally::infra {

namespace {
constexpr std::int16_t end_txn_api_key = 26;  // Kafka protocol: EndTxn
constexpr std::int32_t broker_id = 1;
}  // namespace

struct dev_kafka::impl {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~impl() {
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
  return k;
}

dev_kafka::~dev_kafka() = default;

std::string dev_kafka::bootstrap() const {
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
