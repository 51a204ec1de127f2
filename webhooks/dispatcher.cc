#include "webhooks/dispatcher.h"

#include "base/digest.h"
#include "base/json.h"
#include "projections/feed.h"
#include "webhooks/signing.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <functional>

namespace tally::webhooks {

namespace {

// Store layout (<data>/webhooks):
//   m/checkpoint/<partition>            the last offset queued
//   h/<tenant>/<webhook>                the webhook (hook)
//   d/<tenant>/<webhook>/<rev seq>      each delivery, newest first
//   q/<tenant>/<webhook>/<seq>          the deliveries still to send, oldest first
std::string checkpoint_key(std::int32_t p) { return fmt::format("m/checkpoint/{}", p); }
std::string hook_key(const std::string& t, const std::string& w) {
  return fmt::format("h/{}/{}", t, w);
}
std::string deliveries_prefix(const std::string& t, const std::string& w) {
  return fmt::format("d/{}/{}/", t, w);
}
std::string delivery_key(const std::string& t, const std::string& w, std::int64_t seq) {
  return deliveries_prefix(t, w) + fmt::format("{:019}", INT64_MAX - seq);
}
std::string queue_prefix(const std::string& t, const std::string& w) {
  return fmt::format("q/{}/{}/", t, w);
}
std::string queue_key(const std::string& t, const std::string& w, std::int64_t seq) {
  return queue_prefix(t, w) + fmt::format("{:019}", seq);
}

bool wants(const hook& h, std::string_view type) {
  return h.active && (h.event_types.empty() || std::find(h.event_types.begin(), h.event_types.end(),
                                                         type) != h.event_types.end());
}

// Waits after the n-th failed attempt: 2 s, 4 s, 8 s, … at most an hour.
std::chrono::milliseconds backoff(std::int64_t failures) {
  const auto n = std::clamp<std::int64_t>(failures, 1, 12);
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(std::int64_t{1} << n),
                                             std::chrono::hours(1));
}

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct socket_check {
  const outbound_policy* policy;
  std::string host;
  bool refused = false;
};

curl_socket_t open_checked(void* clientp, curlsocktype, curl_sockaddr* address) {
  auto* check = static_cast<socket_check*>(clientp);
  if (!check->policy->allows_address(check->host, &address->addr)) {
    check->refused = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

struct attempt_result {
  long status = 0;  // 0: no answer
  std::string error;
};

attempt_result post(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers, const outbound_policy& policy,
                    std::chrono::milliseconds timeout) {
  static curl_global init;
  attempt_result out;
  CURL* curl = curl_easy_init();
  if (!curl) return {0, "cannot start an HTTP client"};
  CURLU* u = curl_url();
  socket_check check{&policy, "", false};
  char* host = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
    check.host = host;
    curl_free(host);
  }
  curl_url_cleanup(u);
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // no proxy from the environment
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &check);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "Tally-Webhooks/1");
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
    if (out.status < 200 || out.status > 299) out.error = fmt::format("HTTP {}", out.status);
  } else if (check.refused) {
    out.error = "the address " + check.host +
                " resolved to is private, loopback or link-local (not in --webhook-allow-hosts)";
  } else {
    out.error = error[0] ? std::string(error) : std::string(curl_easy_strerror(rc));
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return out;
}

}  // namespace

dispatcher::dispatcher(ports::event_log& log, ports::kv_store& store, const clock_source& clock,
                       dispatcher_options options, projections::projector* source)
    : log_(log), store_(store), clock_(clock), options_(std::move(options)) {
  stops_.load(store_);
  if (source) {
    feeds_ = std::make_shared<feeds>();
    for (std::int32_t p = 0; p < log_.partition_count(); ++p)
      feeds_->partitions.push_back(std::make_unique<feed>());
    source->on_applied([f = feeds_](const std::vector<ports::recorded_event>& events) {
      if (events.empty() || !f->open) return;
      const auto p = static_cast<std::size_t>(events.front().pos.partition);
      if (p >= f->partitions.size()) return;
      auto& part = *f->partitions[p];
      {
        std::lock_guard lock(part.mutex);
        if (part.overflow) return;
        if (part.events.size() + events.size() > 20'000) {
          part.overflow = true;
          part.events.clear();
        } else {
          part.events.insert(part.events.end(), events.begin(), events.end());
        }
      }
      part.arrived.notify_one();
    });
  }
  store_.scan("h/", "", [&](std::string_view key, std::string_view value) {
    if (auto h = json::read_own<hook>(value)) hooks_.emplace(std::string(key), std::move(*h));
    return true;
  });
}

dispatcher::~dispatcher() {
  stop();
  if (feeds_) feeds_->open = false;
}

void dispatcher::start() {
  stopping_ = false;
  for (std::int32_t p = 0; p < log_.partition_count(); ++p)
    threads_.emplace_back([this, p] { consume(p); });
  for (std::size_t k = 0; k < std::max<std::size_t>(1, options_.senders); ++k)
    threads_.emplace_back([this, k] { send(k); });
}

void dispatcher::stop() {
  stopping_ = true;
  queued_.notify_all();
  if (feeds_)
    for (auto& part : feeds_->partitions) part->arrived.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void dispatcher::consume(std::int32_t partition) {
  // Reads the log from the checkpoint until its end, then (with a source)
  // takes the projector's events; skips what it has done, so the overlap
  // between the two is harmless and nothing falls between them.
  std::unique_ptr<ports::log_cursor> cursor;
  bool live = false;
  bool failing = false;
  std::int64_t done = -1;
  if (const auto at = store_.get(checkpoint_key(partition))) done = std::stoll(*at);
  feed* part = feeds_ ? feeds_->partitions[static_cast<std::size_t>(partition)].get() : nullptr;
  while (!stopping_) {
    std::vector<ports::recorded_event> events;
    status s = ok();
    if (live) {
      std::unique_lock lock(part->mutex);
      part->arrived.wait_for(lock, std::chrono::milliseconds(500),
                             [&] { return !part->events.empty() || part->overflow || stopping_; });
      if (part->overflow) {
        part->overflow = false;
        part->events.clear();
        live = false;  // fell behind: read the log again
        continue;
      }
      events.swap(part->events);
    } else {
      if (!cursor) {
        auto c = log_.open(partition, done + 1);
        if (!c) {
          if (!std::exchange(failing, true)) spdlog::error("webhooks: {}", c.err().detail);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        cursor = std::move(*c);
      }
      auto batch = cursor->poll(500, std::chrono::milliseconds(100));
      if (batch) {
        // A tenant's events after a record of theirs that cannot be read are
        // not sent, as the projector does not apply them (the live feed
        // never carries them).
        if (!batch->unreadable.empty()) {
          ports::kv_batch kv;
          for (const auto& u : batch->unreadable)
            if (u.tenant) stops_.stop({u.tenant->value, u.pos, u.reason}, kv);
          if (!kv.empty()) s = store_.write(kv);
        }
        events = std::move(batch->events);
        std::erase_if(events, [&](const ports::recorded_event& r) {
          return stops_.stopped_before(r.event.tenant, r.pos);
        });
        if (batch->at_end && part) {
          live = true;
          cursor.reset();
        }
      } else {
        s = status(batch.err());
      }
    }
    std::erase_if(events, [&](const ports::recorded_event& r) { return r.pos.offset <= done; });
    if (s && !events.empty()) s = apply(partition, events);
    if (!s) {
      // Read again from the checkpoint, with the hooks as the store has them.
      if (!std::exchange(failing, true)) spdlog::error("webhooks: {}; retrying", s.err().detail);
      cursor.reset();
      live = false;
      if (const auto at = store_.get(checkpoint_key(partition))) done = std::stoll(*at);
      std::lock_guard lock(mutex_);
      hooks_.clear();
      store_.scan("h/", "", [&](std::string_view key, std::string_view value) {
        if (auto h = json::read_own<hook>(value)) hooks_.emplace(std::string(key), std::move(*h));
        return true;
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (!events.empty()) done = events.back().pos.offset;
    if (std::exchange(failing, false)) spdlog::info("webhooks: queueing again");
  }
}

status dispatcher::apply(std::int32_t partition, const std::vector<ports::recorded_event>& events) {
  std::lock_guard records(records_);
  ports::kv_batch batch;
  std::map<std::string, hook> changed;
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    auto current = [&](const std::string& key) -> hook* {
      if (auto it = changed.find(key); it != changed.end()) return &it->second;
      if (auto it = hooks_.find(key); it != hooks_.end())
        return &changed.emplace(key, it->second).first->second;
      return nullptr;
    };
    for (const auto& r : events) {
      const event& e = r.event;
      if (const auto* d = std::get_if<webhook_registered>(&e.data)) {
        changed[hook_key(e.tenant.value, d->webhook_id.value)] =
            hook{e.tenant.value, d->webhook_id.value, d->url, d->event_types, true, 0};
        continue;
      }
      if (const auto* d = std::get_if<webhook_removed>(&e.data)) {
        if (hook* h = current(hook_key(e.tenant.value, d->webhook_id.value))) {
          h->active = false;
          // What is still queued will not be sent.
          store_.scan(queue_prefix(h->tenant, h->webhook_id), "",
                      [&](std::string_view key, std::string_view) {
                        const auto seq = std::stoll(std::string(key.substr(key.rfind('/') + 1)));
                        const auto dk = delivery_key(h->tenant, h->webhook_id, seq);
                        if (auto v = store_.get(dk)) {
                          auto dv = json::read_own<delivery>(*v).value_or(delivery{});
                          dv.status = "cancelled";
                          dv.next_attempt_at.reset();
                          batch.put(dk, json::write(dv));
                        }
                        batch.erase(std::string(key));
                        return true;
                      });
        }
        continue;
      }
      const std::string prefix = "h/" + e.tenant.value + "/";
      std::vector<std::string> keys;
      for (auto it = hooks_.lower_bound(prefix);
           it != hooks_.end() && it->first.starts_with(prefix); ++it)
        keys.push_back(it->first);
      for (const auto& [k, h] : changed)
        if (k.starts_with(prefix) && !hooks_.contains(k)) keys.push_back(k);
      std::string body;
      for (const auto& key : keys) {
        hook* h = current(key);
        if (!h || !wants(*h, type_of(e.data))) continue;
        if (body.empty()) body = projections::cloud_event_with_position(r);
        const std::int64_t seq = ++h->next_seq;
        delivery d;
        d.delivery_id = fmt::format("dlv_{}_{}", h->webhook_id, seq);
        d.event_id = e.id.value;
        d.type = std::string(type_of(e.data));
        d.position = r.pos.token();
        d.next_attempt_at = clock_.now();
        d.body = body;
        batch.put(delivery_key(h->tenant, h->webhook_id, seq), json::write(d));
        batch.put(queue_key(h->tenant, h->webhook_id, seq), "");
        queued = true;
      }
    }
  }
  for (const auto& [k, h] : changed) batch.put(k, json::write(h));
  batch.put(checkpoint_key(partition), std::to_string(events.back().pos.offset));
  if (auto s = store_.write(batch); !s) return s;
  {
    std::lock_guard lock(mutex_);
    for (auto& [k, h] : changed) hooks_[k] = std::move(h);
  }
  if (queued) queued_.notify_all();
  return ok();
}

void dispatcher::send(std::size_t worker) {
  const std::size_t workers = std::max<std::size_t>(1, options_.senders);
  while (!stopping_) {
    std::vector<hook> mine;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [k, h] : hooks_)
        if (h.active && std::hash<std::string>{}(k) % workers == worker) mine.push_back(h);
    }
    bool busy = false;
    for (const auto& h : mine) {
      if (stopping_) return;
      try {
        while (!stopping_ && attempt(h)) busy = true;
      } catch (const std::exception& ex) {
        spdlog::error("webhooks: {}", ex.what());
      }
    }
    if (!busy) {
      // Without webhooks, until something is queued; with some, a retry may
      // come due (on a test clock, too) at any time.
      std::unique_lock lock(queued_mutex_);
      queued_.wait_for(
          lock, mine.empty() ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100));
    }
  }
}

bool dispatcher::attempt(const hook& h) {
  std::optional<std::string> head;
  store_.scan(queue_prefix(h.tenant, h.webhook_id), "",
              [&](std::string_view key, std::string_view) {
                head = std::string(key);
                return false;
              });
  if (!head) return false;
  const auto seq = std::stoll(head->substr(head->rfind('/') + 1));
  const auto dk = delivery_key(h.tenant, h.webhook_id, seq);
  auto stored = store_.get(dk);
  auto d = stored ? json::read_own<delivery>(*stored) : std::nullopt;
  ports::kv_batch batch;
  if (!d || d->status != "pending") {
    batch.erase(*head);
    return static_cast<bool>(store_.write(batch));
  }
  const timestamp now = clock_.now();
  if (d->next_attempt_at && *d->next_attempt_at > now) return false;
  const std::string secret =
      secret_for(options_.server_key, ids::tenant{h.tenant}, ids::webhook{h.webhook_id});
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto result = post(h.url, d->body,
                           {"Content-Type: application/cloudevents+json; charset=UTF-8",
                            "Tally-Signature: " + signature(secret, t, d->body),
                            "Tally-Delivery: " + d->delivery_id, "Expect:"},
                           options_.policy, options_.attempt_timeout);
  const timestamp done = clock_.now();
  std::lock_guard records(records_);
  // Read again: the webhook may have been removed meanwhile.
  stored = store_.get(dk);
  d = stored ? json::read_own<delivery>(*stored) : std::nullopt;
  if (!d || d->status != "pending") return false;
  ++d->attempts;
  if (!d->first_attempt_at) d->first_attempt_at = now;
  d->last_status = result.status ? std::optional<std::int64_t>(result.status) : std::nullopt;
  ++(result.error.empty() ? delivered_ : failed_attempts_);
  if (result.error.empty()) {
    d->status = "delivered";
    d->delivered_at = done;
    d->last_error.reset();
    d->next_attempt_at.reset();
    batch.erase(*head);
  } else {
    d->last_error = result.error;
    if (done - *d->first_attempt_at >= options_.give_up_after) {
      d->status = "failed";
      d->failed_at = done;
      ++gave_up_;
      d->next_attempt_at.reset();
      batch.erase(*head);
      spdlog::warn("webhooks: gave up on {} after {} attempts: {}", d->delivery_id, d->attempts,
                   result.error);
    } else {
      d->next_attempt_at = done + backoff(d->attempts);
    }
  }
  batch.put(dk, json::write(*d));
  if (auto s = store_.write(batch); !s) {
    spdlog::error("webhooks: {}", s.err().detail);
    return false;
  }
  return result.error.empty();
}

void dispatcher::write_metrics(metrics_text& out) const {
  const char* help = "Webhook delivery attempts by result (a 2xx, or anything else).";
  out.counter("tally_webhook_attempts_total", help, metrics_text::label("result", "delivered"),
              static_cast<double>(delivered_.load()));
  out.counter("tally_webhook_attempts_total", help, metrics_text::label("result", "error"),
              static_cast<double>(failed_attempts_.load()));
  out.counter("tally_webhook_gave_up_total",
              "Deliveries given up after 24 hours of failed attempts.", "",
              static_cast<double>(gave_up_.load()));
}

result<std::string> dispatcher::deliveries(const ids::tenant& t, const ids::webhook& w,
                                           const projections::page_request& page) const {
  const std::string prefix = deliveries_prefix(t.value, w.value);
  std::string from;
  if (!page.cursor.empty()) {
    auto k = from_hex(page.cursor);
    if (!k || !k->starts_with(prefix))
      return invalid_field("cursor", "is not a cursor this list gave");
    from = *k;
  }
  std::string items = "[";
  std::size_t count = 0;
  std::optional<std::string> next;
  store_.scan(prefix, from, [&](std::string_view key, std::string_view value) {
    if (count == page.limit) {
      next = to_hex(key);
      return false;
    }
    auto d = json::read_own<delivery>(value);
    if (!d) return true;
    if (count++) items += ',';
    items += json::write(delivery_view{d->delivery_id, d->event_id, d->type, d->position, d->status,
                                       d->attempts, d->last_status, d->last_error,
                                       d->next_attempt_at, d->delivered_at, d->failed_at});
    return true;
  });
  items += ']';
  return fmt::format(R"({{"items":{},"next_cursor":{}}})", items,
                     next ? "\"" + *next + "\"" : "null");
}

}  // namespace tally::webhooks
