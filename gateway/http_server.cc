// The one translation unit with Beast and Asio (docs/decisions/0004-build-time.md).
#include "gateway/http_server.h"

#include "gateway/problem.h"

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

#include <atomic>
#include <thread>

namespace tally::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

}  // namespace

struct http_server::impl {
  options opts;
  const clock_source& clock;
  asio::io_context ioc;
  std::atomic<bool> stopping{false};
  std::unique_ptr<tcp::acceptor> acceptor;
  api* handler = nullptr;

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

status http_server::run(api& handler, const std::function<void(const std::string&)>& on_listening) {
  auto& s = *impl_;
  s.handler = &handler;
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
