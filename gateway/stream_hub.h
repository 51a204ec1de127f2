#pragma once

// WebSocket feeds (API.md, "Real time: WebSocket GET /v1/stream") without
// network code: channels, roles, replay after a position, live delivery, the
// bound on what a slow client may hold. The Beast side (http_server.cc)
// gives each connection a ws_output and feeds it what the client sends.

#include "gateway/auth.h"
#include "infra/ports/event_log.h"
#include "projections/feed.h"
#include "projections/projector.h"
#include "projections/queries.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tally::gateway {

// One connection's way out. Thread-safe.
class ws_output {
 public:
  virtual ~ws_output() = default;
  virtual void send(std::string text) = 0;
  [[nodiscard]] virtual std::size_t queued() const = 0;
  virtual void close(int code, std::string reason) = 0;
};

class stream_hub {
 public:
  struct options {
    std::size_t max_queued = 2'000;  // messages a client may have waiting before 1008
    std::size_t low_water = 200;     // replay refills the queue below this
    std::size_t replay_chunk = 200;
    std::size_t max_channels = 256;  // channels one connection may hold
  };

  // One subscriber per connection. Its methods are thread-safe.
  class subscriber {
   public:
    subscriber(stream_hub& hub, principal who, std::shared_ptr<ws_output> out);
    void on_text(std::string_view text);
    // The connection's queue went below the low-water mark.
    void on_drained();
    void on_live(const ports::position& pos,
                 const std::vector<projections::feed_message>& messages);
    [[nodiscard]] const principal& who() const { return who_; }

   private:
    bool allowed(const std::string& channel, std::string& why) const;
    // Whether a host-scoped subscriber may see the session (always for others).
    [[nodiscard]] bool visible(const ids::session& id) const;
    void deliver(const ports::position& pos, const projections::feed_message& m);
    void pump();
    void reply_error(std::string_view code, const std::string& detail);

    stream_hub& hub_;
    principal who_;
    std::shared_ptr<ws_output> out_;
    std::mutex mutex_;
    std::set<std::string> channels_;
    bool replaying_ = false;
    std::optional<ports::position> replay_after_;
    std::vector<std::pair<ports::position, projections::feed_message>>
        held_;  // live, during replay
    std::optional<ports::position> last_sent_;
    bool closed_ = false;
  };

  stream_hub(projections::projector& projector, projections::queries& queries,
             ports::event_log& log, options opts);

  std::shared_ptr<subscriber> connect(const principal& who, std::shared_ptr<ws_output> out);
  void disconnect(const subscriber* s);
  [[nodiscard]] std::size_t connections() const;
  [[nodiscard]] const options& limits() const { return opts_; }

 private:
  void on_applied(const std::vector<ports::recorded_event>& events);

  projections::projector& projector_;
  projections::queries& queries_;
  ports::event_log& log_;
  options opts_;
  mutable std::mutex mutex_;
  std::multimap<std::string, std::weak_ptr<subscriber>> by_tenant_;
};

}  // namespace tally::gateway
