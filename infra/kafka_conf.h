#pragma once

// librdkafka client configuration shared by infra's Kafka code (kafka_log.cc,
// kafka_group.cc). Private to infra/: it includes librdkafka.

#include "domain/error.h"
#include "infra/kafka_log.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace tally::infra::kafka {

// librdkafka's own log lines go through spdlog as warnings (it suppresses
// repeats itself); what they mean for Tally is logged as errors by the
// code that sees the failure, once per spell.
inline void on_log(const rd_kafka_t*, int level, const char* facility, const char* text) {
  if (level <= 4) spdlog::warn("kafka {}: {}", facility, text);
}

// A configuration until rd_kafka_new takes it.
struct conf_ptr {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  conf_ptr() = default;
  conf_ptr(conf_ptr&& o) noexcept : conf(std::exchange(o.conf, nullptr)) {}
  conf_ptr& operator=(conf_ptr&&) = delete;
  conf_ptr(const conf_ptr&) = delete;
  ~conf_ptr() {
    if (conf) rd_kafka_conf_destroy(conf);
  }
  status set(const char* name, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      return make_error(errc::internal, fmt::format("Kafka setting {}: {}", name, err));
    return ok();
  }
  // Hands the configuration to rd_kafka_new (which owns it on success).
  result<rd_kafka_t*> make(rd_kafka_type_t type) {
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) return make_error(errc::internal, std::string("cannot make a Kafka client: ") + err);
    conf = nullptr;
    return rk;
  }
};

// Every client's settings (cluster, name, logging, reconnects), then `extra`.
inline result<conf_ptr> client_conf(
    const kafka_options& o, std::initializer_list<std::pair<const char*, std::string>> extra = {}) {
  conf_ptr c;
  rd_kafka_conf_set_log_cb(c.conf, on_log);
  for (const auto& [k, v] : {std::pair<const char*, std::string>{"bootstrap.servers", o.bootstrap},
                             {"client.id", "tally"},
                             {"socket.connection.setup.timeout.ms", "5000"},
                             {"reconnect.backoff.max.ms", "1000"}})
    if (auto s = c.set(k, v); !s) return std::move(s).take_error();
  for (const auto& [k, v] : extra)
    if (auto s = c.set(k, v); !s) return std::move(s).take_error();
  return c;
}

}  // namespace tally::infra::kafka
