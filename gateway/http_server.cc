// The one translation unit with Beast and Asio (docs/decisions/0004-build-time.md).
#include "gateway/http_server.h"

#include "gateway/problem.h"
#include "gateway/stream_hub.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <deque>
#include <thread>

namespace tally::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

// One WebSocket connection's outbound side: a queue drained by one writer
// coroutine on the connection's strand. send/close may come from any thread.
class ws_connection final : public ws_output, public std::enable_shared_from_this<ws_connection> {
 public:
  explicit ws_connection(websocket::stream<beast::tcp_stream>& ws)
      : ws_(ws), signal_(ws.get_executor(), asio::steady_timer::time_point::max()) {}

  void send(std::string text) override {
    {
      std::lock_guard lock(mutex_);
      if (closing_) return;
      queue_.push_back(std::move(text));
      ++queued_;
    }
    wake();
  }
  [[nodiscard]] std::size_t queued() const override { return queued_.load(); }
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
    wake();
    // A client that stopped reading cannot take a close frame either: if the
    // socket is still busy after a grace period, cut it.
    auto self = shared_from_this();
    auto timer =
        std::make_shared<asio::steady_timer>(signal_.get_executor(), std::chrono::seconds(2));
    timer->async_wait([self, timer](const boost::system::error_code&) {
      if (!self->done_) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
      }
    });
  }

  asio::awaitable<void> write_loop(std::shared_ptr<stream_hub::subscriber> sub,
                                   std::size_t low_water) {
    for (;;) {
      std::optional<std::string> next;
      bool close_now = false;
      {
        std::lock_guard lock(mutex_);
        if (closing_)
          close_now = true;
        else if (!queue_.empty()) {
          next = std::move(queue_.front());
          queue_.pop_front();
          --queued_;
        }
      }
      if (close_now) {
        websocket::close_reason reason(static_cast<websocket::close_code>(close_code_),
                                       close_reason_);
        co_await ws_.async_close(reason, use_tuple);
        break;
      }
      if (!next) {
        if (done_) break;
        signal_.expires_at(asio::steady_timer::time_point::max());
        co_await signal_.async_wait(use_tuple);
        continue;
      }
      ws_.text(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*next), use_tuple);
      (void)n;
      if (ec) break;
      if (queued_ < low_water) sub->on_drained();
    }
    done_ = true;
  }

  void finish() {
    done_ = true;
    wake();
  }

 private:
  void wake() {
    asio::post(signal_.get_executor(), [self = shared_from_this()] { self->signal_.cancel(); });
  }

  websocket::stream<beast::tcp_stream>& ws_;
  asio::steady_timer signal_;
  std::mutex mutex_;
  std::deque<std::string> queue_;
  std::atomic<std::size_t> queued_{0};
  bool closing_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
  std::atomic<bool> done_{false};
};

}  // namespace

struct http_server::impl {
  options opts;
  const clock_source& clock;
  asio::io_context ioc;
  std::atomic<bool> stopping{false};
  std::unique_ptr<tcp::acceptor> acceptor;
  api* handler = nullptr;
  stream_hub* hub = nullptr;

  asio::awaitable<void> serve_websocket(beast::tcp_stream stream,
                                        http::request<http::string_body> req, principal who) {
    websocket::stream<beast::tcp_stream> ws(std::move(stream));
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.read_message_max(64 * 1024);
    auto [ec] = co_await ws.async_accept(req, use_tuple);
    if (ec) co_return;
    auto out = std::make_shared<ws_connection>(ws);
    auto sub = hub->connect(who, out);
    asio::co_spawn(ws.get_executor(), out->write_loop(sub, 200), asio::detached);
    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await ws.async_read(buffer, use_tuple);
      (void)n;
      if (rec) break;
      sub->on_text(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
    hub->disconnect(sub.get());
    out->finish();
    // Let the writer see `done` before the stream it uses goes away.
    while (out.use_count() > 1) {
      asio::steady_timer t(ws.get_executor(), std::chrono::milliseconds(5));
      co_await t.async_wait(use_tuple);
    }
  }

  impl(options o, const clock_source& c)
      : opts(std::move(o)), clock(c), ioc(static_cast<int>(opts.threads)) {}

  http_response transport_problem(errc code, std::string detail) {
    auto r = problem_response(make_error(code, std::move(detail)));
    add_common_headers(r, clock);
    r.close = true;
    return r;
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opts.body_limit);
      parser.header_limit(64 * 1024);
      stream.expires_after(opts.read_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)n;
      http_response resp;
      bool keep_alive = false;
      if (ec == http::error::body_limit) {
        resp = transport_problem(errc::payload_too_large, "the body is over 1 MiB");
      } else if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
                 ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
                 ec == asio::error::eof) {
        break;
      } else if (ec) {
        if (ec.category() != http::make_error_code(http::error::body_limit).category())
          break;  // the peer went away
        resp = transport_problem(errc::invalid_request, "malformed HTTP request: " + ec.message());
      } else if (stopping) {
        resp = transport_problem(errc::unavailable, "the server is stopping");
      } else if (websocket::is_upgrade(parser.get()) && hub) {
        auto& req = parser.get();
        http_request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (const auto& f : req)
          r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        auto who = handler->authorize_stream(r);
        if (who) {
          stream.expires_never();
          co_await serve_websocket(std::move(stream), parser.release(), *who);
          co_return;
        }
        resp = problem_response(who.err());
        add_common_headers(resp, clock);
        resp.close = true;
      } else {
        auto& req = parser.get();
        keep_alive = req.keep_alive();
        http_request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (const auto& f : req)
          r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        r.body = std::move(req.body());
        resp = co_await async_handle(*handler, std::move(r), asio::use_awaitable);
      }
      http::response<http::string_body> res{static_cast<http::status>(resp.status), 11};
      res.set(http::field::server, "tally");
      res.set(http::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.set(k, v);
      res.body() = std::move(resp.body);
      keep_alive = keep_alive && !resp.close && !stopping;
      res.keep_alive(keep_alive);
      res.prepare_payload();
      stream.expires_after(opts.read_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      (void)wn;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(ioc), use_tuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept: {}", ec.message());
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
    }
  }

  void begin_stop() {
    if (stopping.exchange(true)) return;
    asio::post(ioc, [this] {
      beast::error_code ignored;
      if (acceptor) acceptor->close(ignored);
      drain(std::chrono::steady_clock::now() + opts.drain);
    });
  }

  // Waits until every request already read has been answered, then stops.
  void drain(std::chrono::steady_clock::time_point deadline) {
    if (handler->in_flight() == 0 || std::chrono::steady_clock::now() >= deadline) {
      // Let the last answers reach their sockets.
      auto t = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
      t->async_wait([this, t](auto) { ioc.stop(); });
      return;
    }
    auto t = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(20));
    t->async_wait([this, t, deadline](auto) { drain(deadline); });
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
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  on_listening(bound.address().to_string() + ":" + std::to_string(bound.port()));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.opts.threads; ++i) threads.emplace_back([&] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  return ok();
}

void http_server::stop() { impl_->begin_stop(); }

}  // namespace tally::gateway
