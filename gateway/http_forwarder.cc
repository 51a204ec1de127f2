// The second translation unit with Beast and Asio (docs/decisions/0004):
// an HTTP client for passing requests on between Tally's processes.
#include "gateway/http_forwarder.h"

#include "gateway/problem.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <thread>
#include <vector>

namespace tally::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool hop_by_hop(std::string_view name) {
  static constexpr std::string_view names[] = {"connection", "keep-alive",     "transfer-encoding",
                                               "te",         "upgrade",        "proxy-connection",
                                               "host",       "content-length", "trailer"};
  return std::any_of(std::begin(names), std::end(names),
                     [&](std::string_view n) { return beast::iequals(n, name); });
}

http_response unreachable(const std::string& url, const std::string& why) {
  auto r = problem_response(
      make_error(errc::unavailable,
                 "the Tally process at " + url + " cannot be reached (" + why + "); retry later"));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

struct http_forwarder::impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::vector<std::thread> threads;

  asio::awaitable<void> exchange(std::string base_url, http_request request, respond_fn done,
                                 std::chrono::milliseconds timeout) {
    auto url = boost::urls::parse_uri(base_url);
    if (!url || url->scheme() != "http") {
      done(unreachable(base_url, "not an http:// URL"));
      co_return;
    }
    const std::string host(url->host());
    const std::string port = url->has_port() ? std::string(url->port()) : "80";
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(host, port, use_tuple);
    if (rec) {
      done(unreachable(base_url, rec.message()));
      co_return;
    }
    beast::tcp_stream stream(ex);
    stream.expires_after(timeout);
    auto [cec, endpoint] = co_await stream.async_connect(results, use_tuple);
    (void)endpoint;
    if (cec) {
      done(unreachable(base_url, cec.message()));
      co_return;
    }
    http::request<http::string_body> req{http::string_to_verb(request.method), request.target, 11};
    if (req.method() == http::verb::unknown) req.method_string(request.method);
    for (const auto& [k, v] : request.headers)
      if (!hop_by_hop(k)) req.set(k, v);
    req.set(http::field::host, host + ":" + port);
    req.body() = std::move(request.body);
    req.keep_alive(false);
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    (void)wn;
    if (wec) {
      done(unreachable(base_url, wec.message()));
      co_return;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    auto [rec2, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)rn;
    if (rec2) {
      done(unreachable(base_url, rec2.message()));
      co_return;
    }
    auto& res = parser.get();
    http_response out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    for (const auto& f : res) {
      const auto name = f.name_string();
      if (hop_by_hop(name) || beast::iequals(name, "content-type") ||
          beast::iequals(name, "server"))
        continue;
      out.headers.emplace_back(std::string(name), std::string(f.value()));
    }
    out.body = std::move(res.body());
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    done(std::move(out));
  }
};

http_forwarder::http_forwarder(std::size_t threads) : impl_(std::make_unique<impl>()) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

http_forwarder::~http_forwarder() {
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

void http_forwarder::send(const std::string& base_url, http_request request, respond_fn done,
                          std::chrono::milliseconds timeout) {
  asio::co_spawn(impl_->ioc,
                 impl_->exchange(base_url, std::move(request), std::move(done), timeout),
                 asio::detached);
}

}  // namespace tally::gateway
