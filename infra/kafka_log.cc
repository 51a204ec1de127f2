#include "infra/kafka_log.h"

#include "domain/event_codec.h"
#include "infra/kafka_conf.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <thread>
#include <utility>

namespace tally::infra {

namespace {

constexpr const char* content_type = "application/cloudevents+json; charset=UTF-8";

using kafka::client_conf;
using kafka::conf_ptr;

error kafka_error(errc code, const std::string& what, const char* why) {
  return make_error(code, what + ": " + why);
}

}  // namespace

// ---- the writer of one partition ------------------------------------------

class kafka_log::writer {
 public:
  writer(const kafka_log& log, std::int32_t partition) : log_(log), partition_(partition) {}
  ~writer() { drop(); }

  status init() {
    auto c = client_conf(log_.options_);
    if (!c) return std::move(c).take_error();
    const auto txid = fmt::format("{}.{}", log_.options_.topic, partition_);
    for (auto [k, v] : {std::pair<const char*, std::string>{"transactional.id", txid},
                        {"enable.idempotence", "true"},
                        {"acks", "all"},
                        {"linger.ms", "1"},
                        {"transaction.timeout.ms", "60000"},
                        {"message.timeout.ms", "30000"}}) {
      if (auto s = c->set(k, v); !s) return s;
    }
    rd_kafka_conf_set_dr_msg_cb(c->conf, &writer::on_delivery);
    auto rk = c->make(RD_KAFKA_PRODUCER);
    if (!rk) return std::move(rk).take_error();
    rk_ = *rk;
    if (rd_kafka_error_t* e = rd_kafka_init_transactions(
            rk_, static_cast<int>(log_.options_.connect_timeout.count()))) {
      auto err = kafka_error(errc::unavailable,
                             fmt::format("cannot become the writer of partition {}", partition_),
                             rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      drop();
      return err;
    }
    // Learn the topic's leaders now rather than on the first produce (which
    // would wait for a metadata refresh inside the first commit).
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk_, log_.options_.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (!rd_kafka_metadata(rk_, 0, topic, &md,
                           static_cast<int>(log_.options_.connect_timeout.count())) &&
        md)
      rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(topic);
    state_ = state::idle;
    return ok();
  }

  result<std::vector<ports::position>> append(const std::vector<event>& events) {
    if (auto s = settle(); !s) return std::move(s).take_error();
    if (rd_kafka_error_t* e = rd_kafka_begin_transaction(rk_)) {
      auto err =
          kafka_error(errc::unavailable, "cannot begin a transaction", rd_kafka_error_string(e));
      if (rd_kafka_error_is_fatal(e)) drop();
      rd_kafka_error_destroy(e);
      return err;
    }
    auto& batch = batches_.emplace_back(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string text = encode_cloud_event(events[i]);
      const auto& key = events[i].tenant.value;
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(log_.options_.topic.c_str()), RD_KAFKA_V_PARTITION(partition_),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(text.data()), text.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_HEADER("content-type", content_type, -1), RD_KAFKA_V_OPAQUE(&batch[i]),
          RD_KAFKA_V_END);
      if (e) {
        // Nothing of this batch is committed; what was produced is aborted.
        batch.resize(i);
        return abort_after(
            make_error(errc::unavailable, std::string("cannot produce: ") + rd_kafka_err2str(e)),
            i > 0);
      }
    }
    rd_kafka_error_t* e =
        rd_kafka_commit_transaction(rk_, static_cast<int>(log_.options_.commit_timeout.count()));
    if (!e) {
      rd_kafka_poll(rk_, 0);
      std::vector<ports::position> positions;
      positions.reserve(events.size());
      for (const auto& s : batch) {
        if (!s.done || s.err || s.offset < 0) {
          // Committed, but an offset is unknown: the writer must read back.
          forget_done();
          return make_error(errc::outcome_unknown,
                            "the events were committed but their positions are unknown");
        }
        positions.push_back(ports::position{partition_, s.offset});
      }
      forget_done();
      return positions;
    }
    return commit_failed(e);
  }

  // Finishes what a failed append left open; ok when the writer can write.
  status settle() {
    switch (state_) {
      case state::idle:
        return ok();
      case state::dropped:
        return make_error(
            errc::unavailable,
            fmt::format("partition {} has no writer here (fenced or failed)", partition_));
      case state::commit_pending: {
        rd_kafka_error_t* e = rd_kafka_commit_transaction(rk_, 1000);
        if (!e) {
          spdlog::info("partition {}: the commit that timed out is done", partition_);
          state_ = state::idle;
          forget_done();
          return ok();
        }
        (void)commit_failed(e);
        return state_ == state::idle
                   ? ok()
                   : make_error(errc::unavailable,
                                fmt::format("partition {}: the last commit is still unconfirmed",
                                            partition_));
      }
      case state::abort_pending: {
        rd_kafka_error_t* e = rd_kafka_abort_transaction(rk_, 1000);
        if (!e) {
          state_ = state::idle;
          forget_done();
          return ok();
        }
        if (rd_kafka_error_is_fatal(e) || !rd_kafka_error_is_retriable(e)) drop();
        rd_kafka_error_destroy(e);
        return make_error(errc::unavailable,
                          fmt::format("partition {}: the last abort is unconfirmed", partition_));
      }
    }
    return ok();
  }

  [[nodiscard]] bool dropped() const { return state_ == state::dropped; }

 private:
  enum class state { dropped, idle, commit_pending, abort_pending };
  struct slot {
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::int64_t offset = -1;
  };

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* s = static_cast<slot*>(m->_private);
    if (!s) return;
    s->done = true;
    s->err = m->err;
    s->offset = m->offset;
  }

  // What a failed commit leaves: its outcome is unknown, and the writer
  // retries, aborts, or is dropped.
  result<std::vector<ports::position>> commit_failed(rd_kafka_error_t* e) {
    const std::string why = rd_kafka_error_string(e);
    const auto code = rd_kafka_error_code(e);
    const bool fenced =
        code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
    if (fenced || rd_kafka_error_is_fatal(e)) {
      spdlog::error("partition {}: the writer is dropped: {}", partition_, why);
      drop();
    } else if (rd_kafka_error_is_retriable(e)) {
      if (state_ != state::commit_pending)
        spdlog::warn("partition {}: the commit is unconfirmed ({}); retrying it", partition_, why);
      state_ = state::commit_pending;
    } else if (rd_kafka_error_txn_requires_abort(e)) {
      rd_kafka_error_destroy(e);
      return abort_after(make_error(errc::outcome_unknown, "the transaction was aborted: " + why),
                         true);
    } else {
      state_ = state::commit_pending;
    }
    rd_kafka_error_destroy(e);
    return make_error(errc::outcome_unknown, "the log did not confirm the append in time (" + why +
                                                 "); retry with the same Idempotency-Key");
  }

  // Aborts the open transaction; `maybe_landed`: some record may be in the
  // log (the mock cluster shows aborted records), so the outcome is unknown.
  result<std::vector<ports::position>> abort_after(error why, bool maybe_landed) {
    rd_kafka_error_t* e = rd_kafka_abort_transaction(rk_, 1000);
    if (e) {
      if (rd_kafka_error_is_fatal(e))
        drop();
      else
        state_ = state::abort_pending;
      rd_kafka_error_destroy(e);
    } else {
      state_ = state::idle;
      forget_done();
    }
    if (maybe_landed && why.code != errc::outcome_unknown)
      return make_error(errc::outcome_unknown, why.detail);
    return why;
  }

  // Delivery slots stay alive until librdkafka has reported on them.
  void forget_done() {
    while (!batches_.empty()) {
      bool all = true;
      for (const auto& s : batches_.front()) all = all && s.done;
      if (!all && state_ != state::dropped) break;
      batches_.pop_front();
    }
  }

  void drop() {
    if (rk_) {
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(rk_, 0);
      rd_kafka_destroy(rk_);
      rk_ = nullptr;
    }
    state_ = state::dropped;
    batches_.clear();
  }

  const kafka_log& log_;
  std::int32_t partition_;
  rd_kafka_t* rk_ = nullptr;
  state state_ = state::dropped;
  std::deque<std::vector<slot>> batches_;
};

// ---- a reader of one partition --------------------------------------------

class kafka_log::cursor final : public ports::log_cursor {
 public:
  cursor(std::string topic, std::int32_t partition, std::int64_t from)
      : topic_(std::move(topic)), partition_(partition), next_(from) {}
  ~cursor() override {
    if (rk_) {
      rd_kafka_consumer_close(rk_);
      rd_kafka_destroy(rk_);
    }
  }

  status init(const kafka_options& o) {
    auto c = client_conf(o);
    if (!c) return std::move(c).take_error();
    for (auto [k, v] : {std::pair<const char*, std::string>{"group.id", o.reader_group},
                        {"isolation.level", "read_committed"},
                        {"auto.offset.reset", "error"},
                        {"enable.auto.commit", "false"},
                        {"enable.auto.offset.store", "false"},
                        {"enable.partition.eof", "true"},
                        {"fetch.wait.max.ms", "20"},
                        {"fetch.error.backoff.ms", "100"}}) {
      if (auto s = c->set(k, v); !s) return s;
    }
    auto rk = c->make(RD_KAFKA_CONSUMER);
    if (!rk) return std::move(rk).take_error();
    rk_ = *rk;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition_)->offset =
        std::max<std::int64_t>(next_, 0);
    const auto e = rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e) return make_error(errc::unavailable, std::string("cannot read: ") + rd_kafka_err2str(e));
    return ok();
  }

  result<ports::read_batch> poll(std::size_t max, std::chrono::milliseconds timeout) override {
    ports::read_batch out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.events.size() + out.unreadable.size() < max) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      // Wait only while nothing came; then take what is there already.
      const int wait = out.empty() ? static_cast<int>(std::max<std::int64_t>(left.count(), 0)) : 0;
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait);
      if (!m) {
        if (out.empty() && std::chrono::steady_clock::now() < deadline) continue;
        break;
      }
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end_ = true;
        next_ = std::max(next_, m->offset);
        rd_kafka_message_destroy(m);
        break;
      }
      if (m->err) {
        const std::string why = rd_kafka_message_errstr(m);
        const bool fatal = m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                           m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                           m->err == RD_KAFKA_RESP_ERR__FATAL;
        rd_kafka_message_destroy(m);
        if (fatal) return make_error(errc::internal, "cannot read the log: " + why);
        continue;  // transport trouble: librdkafka retries
      }
      std::string text(static_cast<const char*>(m->payload), m->len);
      const auto offset = m->offset;
      // The key is the tenant (API.md): whose the record is, even when its
      // value cannot be read.
      std::optional<ids::tenant> key;
      if (m->key && m->key_len > 0)
        key = ids::tenant{std::string(static_cast<const char*>(m->key), m->key_len)};
      rd_kafka_message_destroy(m);
      std::string why;
      auto e = decode_cloud_event(text, &why);
      if (!e) {
        out.unreadable.push_back({ports::position{partition_, offset},
                                  key ? std::move(key) : tenant_named_in(text), std::move(why)});
        next_ = offset + 1;
        at_end_ = false;
        continue;
      }
      out.events.push_back(ports::recorded_event{ports::position{partition_, offset}, std::move(*e),
                                                 std::move(text)});
      next_ = offset + 1;
      at_end_ = false;
    }
    // The consumer's position is past transaction markers it skipped.
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition_);
    if (!rd_kafka_position(rk_, list) && list->elems[0].offset >= 0)
      next_ = std::max<std::int64_t>(next_, list->elems[0].offset);
    rd_kafka_topic_partition_list_destroy(list);
    std::int64_t low = 0, high = 0;
    if (!rd_kafka_get_watermark_offsets(rk_, topic_.c_str(), partition_, &low, &high) && !at_end_)
      out.behind = std::max<std::int64_t>(high - next_, 0);
    out.next = next_;
    out.at_end = at_end_;
    return out;
  }

 private:
  std::string topic_;
  std::int32_t partition_;
  std::int64_t next_;
  bool at_end_ = false;
  rd_kafka_t* rk_ = nullptr;
};

// ---- the log ----------------------------------------------------------------

result<std::unique_ptr<kafka_log>> kafka_log::open(const kafka_options& options) {
  if (options.bootstrap.empty()) return make_error(errc::invalid_request, "no Kafka bootstrap");
  std::unique_ptr<kafka_log> log(new kafka_log(options));
  auto c = client_conf(options);
  if (!c) return std::move(c).take_error();
  auto rk = c->make(RD_KAFKA_PRODUCER);
  if (!rk) return std::move(rk).take_error();
  log->admin_ = *rk;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(log->admin_, options.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const auto e = rd_kafka_metadata(log->admin_, 0, topic, &md,
                                   static_cast<int>(options.connect_timeout.count()));
  rd_kafka_topic_destroy(topic);
  if (e)
    return make_error(errc::unavailable, fmt::format("the Kafka cluster at {} does not answer: {}",
                                                     options.bootstrap, rd_kafka_err2str(e)));
  std::int32_t partitions = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (md->topic_cnt == 1) {
    partitions = md->topics[0].partition_cnt;
    topic_err = md->topics[0].err;
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err || partitions <= 0)
    return make_error(errc::unavailable, fmt::format("topic {} is not there ({}): create it first "
                                                     "(docs/operations.md, \"Kafka\")",
                                                     options.topic, rd_kafka_err2str(topic_err)));
  log->partitions_ = partitions;
  log->writers_.resize(static_cast<std::size_t>(partitions));
  return log;
}

kafka_log::kafka_log(kafka_options options) : options_(std::move(options)) {}

kafka_log::~kafka_log() {
  {
    std::lock_guard lock(writers_mutex_);
    writers_.clear();
  }
  if (admin_) rd_kafka_destroy(admin_);
}

std::int32_t kafka_log::partition_for(std::string_view key, std::int32_t partitions) {
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

std::int32_t kafka_log::partition_of(const ids::tenant& tenant) const {
  return partition_for(tenant.value, partitions_);
}

status kafka_log::own(std::int32_t partition) {
  if (partition < 0 || partition >= partitions_)
    return make_error(errc::internal, "no such partition");
  auto w = std::make_unique<writer>(*this, partition);
  if (auto s = w->init(); !s) return s;
  std::lock_guard lock(writers_mutex_);
  writers_[static_cast<std::size_t>(partition)] = std::move(w);
  return ok();
}

void kafka_log::release(std::int32_t partition) {
  std::unique_ptr<writer> gone;
  std::lock_guard lock(writers_mutex_);
  if (partition >= 0 && partition < partitions_)
    gone = std::move(writers_[static_cast<std::size_t>(partition)]);
}

bool kafka_log::owns(std::int32_t partition) const {
  std::lock_guard lock(writers_mutex_);
  return partition >= 0 && partition < partitions_ &&
         writers_[static_cast<std::size_t>(partition)] &&
         !writers_[static_cast<std::size_t>(partition)]->dropped();
}

result<std::vector<ports::position>> kafka_log::append(std::int32_t partition,
                                                       const std::vector<event>& events) {
  writer* w = nullptr;
  {
    std::lock_guard lock(writers_mutex_);
    if (partition >= 0 && partition < partitions_)
      w = writers_[static_cast<std::size_t>(partition)].get();
  }
  if (!w) return make_error(errc::unavailable, "this process does not write that partition");
  // A cluster known to be down is refused at once: nothing is produced, so
  // the outcome is known.
  if (auto s = writable(); !s) return std::move(s).take_error();
  return w->append(events);
}

status kafka_log::settle(std::int32_t partition) {
  writer* w = nullptr;
  {
    std::lock_guard lock(writers_mutex_);
    if (partition >= 0 && partition < partitions_)
      w = writers_[static_cast<std::size_t>(partition)].get();
  }
  if (!w) return make_error(errc::unavailable, "this process does not write that partition");
  if (w->dropped() && reacquire_) {
    // One process owns every partition: take it back, fencing whoever has it.
    spdlog::info("partition {}: becoming its writer again", partition);
    return own(partition);
  }
  return w->settle();
}

result<std::unique_ptr<ports::log_cursor>> kafka_log::open(std::int32_t partition,
                                                           std::int64_t from) const {
  if (partition < 0 || partition >= partitions_)
    return make_error(errc::internal, "no such partition");
  auto c = std::make_unique<cursor>(options_.topic, partition, from);
  if (auto s = c->init(options_); !s) return std::move(s).take_error();
  return std::unique_ptr<ports::log_cursor>(std::move(c));
}

status kafka_log::writable() const {
  std::lock_guard lock(health_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - health_at_ < std::chrono::seconds(1)) return health_;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(admin_, options_.topic.c_str(), nullptr);
  const auto e = rd_kafka_metadata(admin_, 0, topic, &md, 500);
  rd_kafka_topic_destroy(topic);
  if (md) rd_kafka_metadata_destroy(md);
  if (e)
    health_ = make_error(errc::unavailable, fmt::format("the Kafka cluster does not answer ({})",
                                                        rd_kafka_err2str(e)));
  else
    health_ = ok();
  health_at_ = std::chrono::steady_clock::now();
  return health_;
}

}  // namespace tally::infra
