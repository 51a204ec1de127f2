// The one translation unit with Beast and Asio (docs/decisions/0004-build-time.md).
//
// Lifecycle, after Beast's advanced_server_flex_awaitable: every connection is
// one coroutine on its own strand, registered in a `connection_set` for as
// long as it runs, so that a stop reaches each of them and the server knows,
// without polling, when the last one has ended. A WebSocket connection is two
// coroutines on that strand, a reader and a writer, joined with `||`: when
// either ends (the client went away, the close handshake finished, a write
// failed) the other is cancelled, and the socket is closed when the
// connection's coroutine returns. Nothing waits in a loop.
#include "gateway/http_server.h"

#include "gateway/compression.h"

#include "gateway/http_framing.h"
#include "gateway/problem.h"
#include "gateway/stream_hub.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>

namespace tally::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How long a client cut off for being slow (or told the server is stopping)
// has to finish reading the frame in flight and answer the close frame.
constexpr auto close_grace = std::chrono::seconds(10);

// Pings after 30 s of silence and a cut after 60 s find peers that vanished
// without a FIN (a phone that lost its signal); the close handshake gets
// close_grace.
websocket::stream_base::timeout ws_timeouts() {
  websocket::stream_base::timeout t{};
  t.handshake_timeout = close_grace;
  t.idle_timeout = std::chrono::seconds(60);
  t.keep_alive_pings = true;
  return t;
}

// Turns api::handle's callback into something a coroutine can co_await; the
// answer is posted back to the connection's strand.
template <class Token>
auto async_handle(api& a, http_request req, Token&& token) {
  return asio::async_initiate<Token, void(http_response)>(
      [&a](auto handler, http_request r) {
        auto ex = asio::get_associated_executor(handler);
        auto work = asio::make_work_guard(ex);
        auto shared = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
        a.handle(std::move(r), [shared, ex, work](http_response resp) mutable {
          asio::post(ex,
                     [shared, resp = std::move(resp)]() mutable { (*shared)(std::move(resp)); });
          work.reset();
        });
      },
      token, std::move(req));
}

// Logs an exception that escaped a connection's coroutine (none should).
void log_escaped(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("a connection ended with an exception: {}", ex.what());
  }
}

// Every running connection, as Beast's task_group has it (Boost 1.81 has
// none): a stop reaches each one on its strand, and `on_empty` is called
// when the last one ends after stop_all(). Thread-safe.
class connection_set {
 public:
  struct entry {
    asio::any_io_executor strand;
    // Run on `strand` by stop_all(); set and cleared on the strand only.
    std::function<void()> on_stop;
  };
  using handle = std::shared_ptr<entry>;

  handle add(asio::any_io_executor strand) {
    auto e = std::make_shared<entry>(entry{std::move(strand), {}});
    std::lock_guard lock(mutex_);
    entries_.push_back(e);
    e_iters_.emplace(e.get(), std::prev(entries_.end()));
    return e;
  }
  // On the entry's strand, when its coroutine ends.
  void remove(const handle& e) {
    e->on_stop = nullptr;
    std::function<void()> notify;
    {
      std::lock_guard lock(mutex_);
      auto it = e_iters_.find(e.get());
      if (it == e_iters_.end()) return;
      entries_.erase(it->second);
      e_iters_.erase(it);
      if (entries_.empty() && stopping_) notify = on_empty_;
    }
    if (notify) notify();
  }
  void stop_all(std::function<void()> on_empty) {
    std::vector<handle> all;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      on_empty_ = on_empty;
      all.assign(entries_.begin(), entries_.end());
    }
    if (all.empty()) return on_empty();
    for (auto& e : all)
      asio::post(e->strand, [e] {
        if (e->on_stop) e->on_stop();
      });
  }

 private:
  std::mutex mutex_;
  std::list<handle> entries_;
  std::unordered_map<entry*, std::list<handle>::iterator> e_iters_;
  bool stopping_ = false;
  std::function<void()> on_empty_;
};

// Keeps a connection registered while its coroutine runs.
class registration {
 public:
  registration(connection_set& set, asio::any_io_executor strand)
      : set_(set), entry_(set.add(std::move(strand))) {}
  ~registration() { set_.remove(entry_); }
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;
  void on_stop(std::function<void()> fn) { entry_->on_stop = std::move(fn); }

 private:
  connection_set& set_;
  connection_set::handle entry_;
};

class gauge_guard {
 public:
  explicit gauge_guard(std::atomic<std::int64_t>& g) : g_(g) { ++g_; }
  ~gauge_guard() { --g_; }
  gauge_guard(const gauge_guard&) = delete;
  gauge_guard& operator=(const gauge_guard&) = delete;

 private:
  std::atomic<std::int64_t>& g_;
};

using ws_stream = websocket::stream<beast::tcp_stream>;

// One WebSocket connection's outbound side: a bounded queue drained by the
// writer coroutine on the connection's strand. send/close may be called from
// any thread (the projector's, through the hub); everything that touches the
// stream runs on the strand and checks `ended_` first, because the stream
// lives in the connection's coroutine and is gone once it returns.
class ws_connection final : public ws_output, public std::enable_shared_from_this<ws_connection> {
 public:
  ws_connection(ws_stream& ws, std::size_t hard_limit, transport_metrics& metrics)
      : ws_(ws),
        strand_(ws.get_executor()),
        signal_(strand_, asio::steady_timer::time_point::max()),
        cut_(strand_),
        hard_limit_(hard_limit),
        metrics_(metrics) {}

  void send(std::string text) override {
    bool overflow = false;
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      // Replies to what the client sends bypass the hub's bound; a client
      // that sends without reading is cut off here.
      if (queue_.size() >= hard_limit_)
        overflow = true;
      else {
        queue_.push_back(std::move(text));
        ++queued_;
      }
    }
    if (overflow) return close(1008, "too slow: reconnect with after");
    wake();
  }
  [[nodiscard]] std::size_t queued() const override { return queued_.load(); }

  // Drops what is queued; the frame in flight is finished, then the close
  // frame is sent, and the client has close_grace to answer it before TCP is
  // closed (a client that reads nothing at all is cut then).
  void close(int code, std::string reason) override {
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      closing_ = true;
      close_code_ = code;
      close_reason_ = std::move(reason);
      queue_.clear();
      queued_ = 0;
    }
    if (code == 1008) ++metrics_.websocket_slow_closes;
    asio::post(strand_, [self = shared_from_this()] {
      if (self->ended_) return;
      self->signal_.cancel();
      self->cut_.expires_after(close_grace);
      self->cut_.async_wait([self](const boost::system::error_code& ec) {
        if (ec || self->ended_) return;
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      });
    });
  }

  // On the strand, until the queue is closed and the close frame is sent, or
  // a write fails, or it is cancelled.
  asio::awaitable<void> write_loop(stream_hub::subscriber& sub, std::size_t low_water) {
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;) {
      if ((co_await asio::this_coro::cancellation_state).cancelled() !=
          asio::cancellation_type::none)
        co_return;
      std::optional<std::string> next;
      bool close_now = false;
      int code = 1000;
      std::string reason;
      {
        std::lock_guard lock(mutex_);
        if (closing_) {
          close_now = true;
          code = close_code_;
          reason = close_reason_;
        } else if (!queue_.empty()) {
          next = std::move(queue_.front());
          queue_.pop_front();
          --queued_;
        }
      }
      if (close_now) {
        // Beast reads until the client's close frame arrives (the reader
        // sees it), then closes TCP; cut_ bounds how long that may take.
        co_await ws_.async_close(
            websocket::close_reason(static_cast<websocket::close_code>(code), reason), use_tuple);
        co_return;
      }
      if (!next) {
        signal_.expires_at(asio::steady_timer::time_point::max());
        co_await signal_.async_wait(use_tuple);
        continue;
      }
      ws_.text(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*next), use_tuple);
      (void)n;
      if (ec) co_return;
      if (queued_ < low_water) sub.on_drained();
    }
  }

  // On the strand, when the connection's coroutine is about to return.
  void end() {
    ended_ = true;
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      queue_.clear();
      queued_ = 0;
    }
    cut_.cancel();
    signal_.cancel();
  }

 private:
  void wake() {
    asio::post(strand_, [self = shared_from_this()] {
      if (!self->ended_) self->signal_.cancel();
    });
  }

  ws_stream& ws_;
  asio::any_io_executor strand_;
  asio::steady_timer signal_;  // a wake-up: cancelled when there is something to do
  asio::steady_timer cut_;     // closes TCP if the close handshake takes too long
  std::size_t hard_limit_;
  transport_metrics& metrics_;
  std::mutex mutex_;
  std::deque<std::string> queue_;
  std::atomic<std::size_t> queued_{0};
  bool closing_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
  bool ended_ = false;  // strand only
};

http_request to_api_request(const http::request<http::string_body>& req) {
  http_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req)
    r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return r;
}

}  // namespace

struct http_server::impl {
  // Declared before ioc, so destroyed after it: the io_context's destructor
  // destroys the coroutine frames still suspended in it, and their
  // registrations and gauges refer to these.
  options opts;
  const clock_source& clock;
  std::atomic<bool> stopping{false};
  api* handler = nullptr;
  stream_hub* hub = nullptr;
  connection_set connections;
  transport_metrics metrics;
  asio::io_context ioc;
  // I/O objects: destroyed before the io_context.
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> drained;  // fires when the last connection ended

  impl(options o, const clock_source& c)
      : opts(std::move(o)), clock(c), ioc(static_cast<int>(opts.threads)) {}

  // The upgrade's answer carries what every answer does (Date,
  // Tally-Server-Time, Server: tally), not Beast's banner.
  websocket::stream_base::decorator upgrade_headers() {
    return websocket::stream_base::decorator([this](websocket::response_type& res) {
      http_response common;
      add_common_headers(common, clock);
      res.set(http::field::server, "tally");
      for (const auto& [k, v] : common.headers) res.set(k, v);
    });
  }

  asio::awaitable<void> read_loop(ws_stream& ws, stream_hub::subscriber& sub) {
    co_await asio::this_coro::throw_if_cancelled(false);
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
      (void)n;
      if (ec) co_return;  // closed, gone, timed out or cancelled
      sub.on_text(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
  }

  asio::awaitable<void> serve_websocket(beast::tcp_stream stream,
                                        http::request<http::string_body> req, principal who,
                                        registration& reg) {
    gauge_guard gauge(metrics.websocket_connections);
    ws_stream ws(std::move(stream));
    ws.set_option(ws_timeouts());
    ws.set_option(upgrade_headers());
    ws.read_message_max(64 * 1024);
    auto [ec] = co_await ws.async_accept(req, use_tuple);
    if (ec) co_return;
    const auto limits = hub->limits();
    auto out = std::make_shared<ws_connection>(ws, limits.max_queued * 2, metrics);
    auto sub = hub->connect(who, out);
    reg.on_stop([out] { out->close(1001, "the server is stopping"); });
    if (stopping) out->close(1001, "the server is stopping");
    co_await (read_loop(ws, *sub) || out->write_loop(*sub, limits.low_water));
    hub->disconnect(sub.get());
    reg.on_stop(nullptr);
    out->end();
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
  }

  // Pipes text frames from one WebSocket to the other until either ends.
  static asio::awaitable<void> pipe(ws_stream& from, ws_stream& to) {
    co_await asio::this_coro::throw_if_cancelled(false);
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await from.async_read(buffer, use_tuple);
      (void)n;
      if (ec) co_return;
      to.text(from.got_text());
      auto [wec, wn] = co_await to.async_write(buffer.data(), use_tuple);
      (void)wn;
      if (wec) co_return;
      buffer.consume(buffer.size());
    }
  }

  // A Kafka gateway's /v1/stream: the projector's feed, through this
  // connection. The upstream is reached first; if it cannot be, the client
  // gets 503 instead of an upgrade.
  asio::awaitable<std::optional<http_response>> proxy_websocket(
      beast::tcp_stream& stream, http::request<http::string_body>& req, registration& reg) {
    auto url = boost::urls::parse_uri(opts.stream_upstream);
    const std::string host = url ? std::string(url->host()) : "";
    const std::string port = url && url->has_port() ? std::string(url->port()) : "80";
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(host, port, use_tuple);
    ws_stream up(ex);
    beast::get_lowest_layer(up).expires_after(std::chrono::seconds(5));
    beast::error_code cec = rec;
    if (!cec) {
      auto [e, ep] = co_await beast::get_lowest_layer(up).async_connect(results, use_tuple);
      (void)ep;
      cec = e;
    }
    if (!cec) {
      const std::string auth(req[http::field::authorization]);
      up.set_option(websocket::stream_base::decorator([auth](websocket::request_type& r) {
        if (!auth.empty()) r.set(http::field::authorization, auth);
        r.set(http::field::user_agent, "tally");
      }));
      auto [e] = co_await up.async_handshake(host + ":" + port, req.target(), use_tuple);
      cec = e;
    }
    if (cec)
      co_return transport_problem(make_error(
          errc::unavailable, "the projector's feed cannot be reached (" + cec.message() + ")"));
    beast::get_lowest_layer(up).expires_never();
    gauge_guard gauge(metrics.websocket_connections);
    ws_stream client(std::move(stream));
    client.set_option(ws_timeouts());
    client.set_option(upgrade_headers());
    up.set_option(ws_timeouts());
    client.read_message_max(64 * 1024);
    auto [aec] = co_await client.async_accept(req, use_tuple);
    if (aec) co_return std::nullopt;
    reg.on_stop([&] {
      beast::get_lowest_layer(client).cancel();
      beast::get_lowest_layer(up).cancel();
    });
    co_await (pipe(client, up) || pipe(up, client));
    reg.on_stop(nullptr);
    beast::error_code ignored;
    beast::get_lowest_layer(client).socket().close(ignored);
    beast::get_lowest_layer(up).socket().close(ignored);
    co_return std::nullopt;
  }

  http_response transport_problem(const error& e) {
    auto r = problem_response(e);
    add_common_headers(r, clock);
    r.close = true;
    return r;
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    co_await asio::this_coro::throw_if_cancelled(false);
    beast::tcp_stream stream(std::move(socket));
    bool reading = false;
    registration reg(connections, stream.get_executor());
    gauge_guard gauge(metrics.http_connections);
    // A stop cancels a connection that waits for a request; one that is
    // handling a request answers it (with Connection: close) and ends.
    reg.on_stop([&] {
      if (reading) stream.cancel();
    });
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opts.body_limit);
      parser.header_limit(64 * 1024);
      stream.expires_after(opts.read_timeout);
      reading = true;
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      reading = false;
      (void)n;
      http_response resp;
      bool keep_alive = false;
      bool head = false;
      http_request r;
      if (!ec) r = to_api_request(parser.get());
      const std::string accept_encoding(r.header("Accept-Encoding"));  // r moves to the api
      if (ec == http::error::body_limit) {
        resp = transport_problem(make_error(errc::payload_too_large, "the body is over 1 MiB"));
      } else if (ec) {
        if (ec.category() != http::make_error_code(http::error::body_limit).category())
          break;  // the peer went away, timed out, or the server is stopping
        if (ec == http::error::end_of_stream || ec == http::error::partial_message) break;
        resp = transport_problem(
            make_error(errc::invalid_request, "malformed HTTP request: " + ec.message()));
      } else if (auto framing = framing_problem(parser.get().version(), r.headers)) {
        ++metrics.rejected_framing;
        resp = transport_problem(*framing);
      } else if (stopping) {
        resp = transport_problem(make_error(errc::unavailable, "the server is stopping"));
      } else if (websocket::is_upgrade(parser.get()) && hub) {
        auto who = handler->authorize_stream(r);
        if (who) {
          stream.expires_never();
          // The upgraded connection stays registered under this coroutine.
          co_await serve_websocket(std::move(stream), parser.release(), *who, reg);
          co_return;
        }
        resp = transport_problem(who.err());
      } else if (websocket::is_upgrade(parser.get()) && !opts.stream_upstream.empty()) {
        auto who = handler->authorize_stream(r);
        if (!who) {
          resp = transport_problem(who.err());
        } else {
          stream.expires_never();
          auto req = parser.release();
          auto refused = co_await proxy_websocket(stream, req, reg);
          if (!refused) co_return;
          resp = std::move(*refused);
        }
      } else {
        auto& req = parser.get();
        keep_alive = req.keep_alive();
        head = req.method() == http::verb::head;
        r.body = std::move(req.body());
        resp = co_await async_handle(*handler, std::move(r), asio::use_awaitable);
      }
      encode_response(accept_encoding, resp);
      http::response<http::string_body> res{static_cast<http::status>(resp.status), 11};
      res.set(http::field::server, "tally");
      if (!resp.content_type.empty()) res.set(http::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.body() = std::move(resp.body);
      keep_alive = keep_alive && !resp.close && !stopping;
      res.keep_alive(keep_alive);
      res.prepare_payload();
      // HEAD: the GET answer's header, Content-Length included, no body.
      if (head) res.body().clear();
      stream.expires_after(opts.read_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      (void)wn;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Accepts until stopped. When accept fails (out of descriptors, say) it
  // backs off, up to a second, instead of spinning, counts every failure in
  // /metrics, and logs at most once per ten seconds.
  asio::awaitable<void> accept_loop() {
    auto backoff = std::chrono::milliseconds(0);
    auto last_log = std::chrono::steady_clock::time_point{};
    std::uint64_t unlogged = 0;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(ioc), use_tuple);
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        ++metrics.accept_failures;
        ++unlogged;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_log >= std::chrono::seconds(10)) {
          spdlog::warn("accept failed {} time(s): {}; backing off", unlogged, ec.message());
          unlogged = 0;
          last_log = now;
        }
        backoff =
            std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
        pause.expires_after(backoff);
        co_await pause.async_wait(use_tuple);
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      auto ex = socket.get_executor();
      asio::co_spawn(ex, serve(std::move(socket)), log_escaped);
    }
  }

  void begin_stop() {
    if (stopping.exchange(true)) return;
    asio::post(ioc, [this] {
      beast::error_code ignored;
      if (acceptor) acceptor->close(ignored);
      drained = std::make_unique<asio::steady_timer>(ioc, opts.drain);
      drained->async_wait([this](const boost::system::error_code&) {
        // Let the last answers reach their sockets, then stop.
        auto t = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
        t->async_wait([this, t](auto) { ioc.stop(); });
      });
      connections.stop_all([this] {
        // Not once the io_context has stopped: frames it destroys later end
        // their connections too, and must not post into it.
        if (ioc.stopped()) return;
        asio::post(ioc, [this] {
          if (drained) drained->cancel();
        });
      });
    });
  }
};

http_server::http_server(options opts, const clock_source& clock)
    : impl_(std::make_unique<impl>(std::move(opts), clock)) {}

http_server::~http_server() = default;

schedule_fn http_server::schedule() {
  return
      [ex = impl_->ioc.get_executor()](std::chrono::milliseconds delay, std::function<void()> fn) {
        auto timer = std::make_shared<asio::steady_timer>(ex, delay);
        timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code&) { fn(); });
      };
}

const transport_metrics& http_server::metrics() const { return impl_->metrics; }

status http_server::run(api& handler, stream_hub* hub,
                        const std::function<void(const std::string&)>& on_listening) {
  auto& s = *impl_;
  s.handler = &handler;
  s.hub = hub;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(s.opts.host, ec);
  if (ec) return invalid_field("listen", "is not an IP address: " + s.opts.host);
  tcp::endpoint endpoint(address, s.opts.port);
  s.acceptor = std::make_unique<tcp::acceptor>(s.ioc);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(errc::unavailable, "cannot listen on " + s.opts.host + ":" +
                                             std::to_string(s.opts.port) + ": " + ec.message());
  const auto bound = s.acceptor->local_endpoint();
  asio::signal_set signals(s.ioc);
  if (s.opts.handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) impl_->begin_stop();
    });
  }
  asio::co_spawn(s.ioc, s.accept_loop(), log_escaped);
  on_listening(bound.address().to_string() + ":" + std::to_string(bound.port()));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.opts.threads; ++i) threads.emplace_back([&] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  return ok();
}

void http_server::stop() { impl_->begin_stop(); }

}  // namespace tally::gateway
