#include "infra/kafka_group.h"

#include "base/json.h"
#include "infra/kafka_conf.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <condition_variable>

namespace tally::infra {

namespace {

std::vector<std::int32_t> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<std::int32_t> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back(list->elems[i].partition);
  return out;
}

struct owner_record {
  std::int32_t partition = 0;
  std::string url;
  std::int64_t at_ms = 0;
};
BOOST_DESCRIBE_STRUCT(owner_record, (), (partition, url, at_ms))

struct clock_record {
  std::int64_t offset_ms = 0;
};
BOOST_DESCRIBE_STRUCT(clock_record, (), (offset_ms))

struct member_record {
  std::string url;
  std::int64_t clock_offset_ms = 0;
};
BOOST_DESCRIBE_STRUCT(member_record, (), (url, clock_offset_ms))

}  // namespace

// ---- the group ----------------------------------------------------------------

struct kafka_group::impl {
  handlers h;
  rd_kafka_t* rk = nullptr;
  std::atomic<bool> stop{false};
  std::thread thread;

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts)) {
        spdlog::error("cannot take the assignment: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return;
      }
      // Membership only: the deciders read with cursors of their own.
      rd_kafka_pause_partitions(rk, parts);
      for (auto p : partitions_of(parts)) self->h.assigned(p);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      for (auto p : partitions_of(parts)) self->h.revoked(p);
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts)) rd_kafka_error_destroy(e);
    } else {
      spdlog::error("group rebalance: {}", rd_kafka_err2str(err));
    }
  }
};

result<std::unique_ptr<kafka_group>> kafka_group::join(const kafka_options& o,
                                                       const std::string& group, handlers h) {
  std::unique_ptr<kafka_group> g(new kafka_group());
  g->impl_ = std::make_unique<impl>();
  g->impl_->h = std::move(h);
  auto conf = kafka::client_conf(o, {{"group.id", group},
                                     {"partition.assignment.strategy", "cooperative-sticky"},
                                     {"enable.auto.commit", "false"},
                                     {"enable.auto.offset.store", "false"},
                                     {"session.timeout.ms", "6000"},
                                     {"heartbeat.interval.ms", "500"},
                                     {"auto.offset.reset", "latest"}});
  if (!conf) return std::move(conf).take_error();
  rd_kafka_conf_set_rebalance_cb(conf->conf, &impl::on_rebalance);
  rd_kafka_conf_set_opaque(conf->conf, g->impl_.get());
  auto rk = conf->make(RD_KAFKA_CONSUMER);
  if (!rk) return std::move(rk).take_error();
  g->impl_->rk = *rk;
  rd_kafka_poll_set_consumer(g->impl_->rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const auto e = rd_kafka_subscribe(g->impl_->rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) return make_error(errc::unavailable, std::string("cannot join: ") + rd_kafka_err2str(e));
  auto* self = g->impl_.get();
  self->thread = std::thread([self] {
    while (!self->stop) {
      // Rebalances are served here; paused partitions bring no records.
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(self->rk, 100))
        rd_kafka_message_destroy(m);
    }
    // Leaving revokes everything (the rebalance callback runs here).
    rd_kafka_consumer_close(self->rk);
  });
  return g;
}

kafka_group::~kafka_group() {
  if (!impl_) return;
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->rk) rd_kafka_destroy(impl_->rk);
}

// ---- the owners board --------------------------------------------------------

struct owners_board::impl {
  std::string topic;
  rd_kafka_t* producer = nullptr;
  rd_kafka_t* consumer = nullptr;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::map<std::int32_t, owner_record> owners;
  std::map<std::string, std::int64_t> members;  // url → clock offset
  std::function<void(std::int64_t)> clock_listener;
  std::optional<std::int64_t> clock_offset;  // the latest read
  std::atomic<bool> stop{false};

  status produce(const std::string& key, const std::string& value) {
    const auto e =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_KEY(key.data(), key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e)
      return make_error(errc::unavailable, std::string("cannot publish: ") + rd_kafka_err2str(e));
    if (rd_kafka_flush(producer, 5000))
      return make_error(errc::unavailable, "the owners topic did not take the record in time");
    return ok();
  }

  void take(std::string_view key, std::string_view value) {
    if (key.starts_with("partition/")) {
      if (auto rec = json::read_own<owner_record>(value)) {
        std::lock_guard lock(mutex);
        auto& cur = owners[rec->partition];
        if (rec->at_ms >= cur.at_ms) cur = *rec;
      }
    } else if (key == "clock") {
      if (auto rec = json::read_own<clock_record>(value)) {
        std::function<void(std::int64_t)> listener;
        {
          std::lock_guard lock(mutex);
          clock_offset = rec->offset_ms;
          listener = clock_listener;
        }
        if (listener) listener(rec->offset_ms);
      }
    } else if (key.starts_with("member/")) {
      if (auto rec = json::read_own<member_record>(value)) {
        std::lock_guard lock(mutex);
        members[rec->url] = rec->clock_offset_ms;
      }
    }
    changed.notify_all();
  }
  std::thread thread;
};

result<std::unique_ptr<owners_board>> owners_board::open(const kafka_options& o,
                                                         const std::string& topic) {
  std::unique_ptr<owners_board> b(new owners_board());
  b->impl_ = std::make_unique<impl>();
  auto& s = *b->impl_;
  s.topic = topic;
  auto pconf = kafka::client_conf(o, {{"enable.idempotence", "true"}, {"linger.ms", "0"}});
  if (!pconf) return std::move(pconf).take_error();
  auto producer = pconf->make(RD_KAFKA_PRODUCER);
  if (!producer) return std::move(producer).take_error();
  s.producer = *producer;
  {
    // A cluster that does not create topics by itself (Apache Kafka as
    // operators run it) answers "unknown topic" for ever: say so at once.
    rd_kafka_topic_t* t = rd_kafka_topic_new(s.producer, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const auto e =
        rd_kafka_metadata(s.producer, 0, t, &md, static_cast<int>(o.connect_timeout.count()));
    rd_kafka_topic_destroy(t);
    if (e)
      return make_error(errc::unavailable,
                        fmt::format("the Kafka cluster at {} does not answer: {}", o.bootstrap,
                                    rd_kafka_err2str(e)));
    const auto topic_err =
        md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_metadata_destroy(md);
    if (topic_err)
      return make_error(errc::unavailable,
                        fmt::format("the owners topic {} is not there ({}): create it first, "
                                    "compacted, one partition (docs/operations.md, \"Kafka\")",
                                    topic, rd_kafka_err2str(topic_err)));
  }
  auto cconf = kafka::client_conf(o, {{"group.id", "tally-owners-reader"},
                                      {"enable.auto.commit", "false"},
                                      {"auto.offset.reset", "earliest"},
                                      {"fetch.wait.max.ms", "20"}});
  if (!cconf) return std::move(cconf).take_error();
  auto consumer = cconf->make(RD_KAFKA_CONSUMER);
  if (!consumer) return std::move(consumer).take_error();
  s.consumer = *consumer;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const auto e = rd_kafka_assign(s.consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) return make_error(errc::unavailable, std::string("cannot read ") + topic);
  auto* self = &s;
  s.thread = std::thread([self] {
    while (!self->stop) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(self->consumer, 100);
      if (!m) continue;
      if (!m->err && m->payload && m->key)
        self->take(std::string_view(static_cast<const char*>(m->key), m->key_len),
                   std::string_view(static_cast<const char*>(m->payload), m->len));
      rd_kafka_message_destroy(m);
    }
  });
  return b;
}

owners_board::~owners_board() {
  if (!impl_) return;
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->consumer) {
    rd_kafka_consumer_close(impl_->consumer);
    rd_kafka_destroy(impl_->consumer);
  }
  if (impl_->producer) {
    rd_kafka_flush(impl_->producer, 2000);
    rd_kafka_destroy(impl_->producer);
  }
}

status owners_board::publish(std::int32_t partition, const std::string& url) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return impl_->produce(fmt::format("partition/{}", partition),
                        json::write(owner_record{partition, url, now}));
}

status owners_board::publish_clock(std::int64_t offset_ms) {
  return impl_->produce("clock", json::write(clock_record{offset_ms}));
}

status owners_board::publish_member(const std::string& url, std::int64_t clock_offset_ms) {
  return impl_->produce("member/" + url, json::write(member_record{url, clock_offset_ms}));
}

void owners_board::on_clock(std::function<void(std::int64_t)> listener) {
  std::optional<std::int64_t> now;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->clock_listener = listener;
    now = impl_->clock_offset;
  }
  if (now && listener) listener(*now);
}

bool owners_board::wait_members_at(std::int64_t offset_ms,
                                   std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    for (const auto& [url, at] : impl_->members)
      if (at < offset_ms) return false;
    return true;
  });
}

std::optional<std::string> owners_board::owner(std::int32_t partition) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->owners.find(partition);
  if (it == impl_->owners.end()) return std::nullopt;
  return it->second.url;
}

bool owners_board::wait_complete(std::int32_t partitions, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    for (std::int32_t p = 0; p < partitions; ++p)
      if (!impl_->owners.contains(p)) return false;
    return true;
  });
}

}  // namespace tally::infra
