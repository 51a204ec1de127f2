// The transport under abuse (issue #7): WebSocket clients that vanish or stop
// reading, request smuggling, running out of descriptors, amplification.
// Each test fails against the server before the fix it guards.

#include "support/raw_socket.h"
#include "support/tally_process.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

using namespace tally::testing;
using namespace std::chrono_literals;

namespace {

struct transport : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  std::string admin_token;

  void start(const server_options& limits = {}) {
    server = std::make_unique<tally_server>(dir.str(), true, limits);
    admin = server->client("admin");
    admin_token = admin->token;
  }
  std::string upgrade_request() const {
    return "GET /v1/stream?access_token=" + admin_token +
           " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }
  // A request whose framing is refused: exactly one answer, then the
  // connection is closed (so the bytes after it are never a request).
  std::string refused(const std::string& head_and_body) {
    raw_socket s(server->base_url());
    EXPECT_TRUE(s.connected());
    const std::string smuggled = "GET /v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                                 admin_token + "\r\n\r\n";
    s.send(head_and_body + smuggled);
    auto out = s.read_all(3s);
    EXPECT_EQ(count_responses(out), 1) << out;
    EXPECT_TRUE(s.closed()) << "the connection stayed open after: " << out.substr(0, 200);
    return out;
  }
};

TEST_F(transport, websocket_clients_that_vanish_leave_no_descriptor_socket_or_busy_thread_behind) {
  start();
  ASSERT_EQ(admin->get("/healthz").status, 200);
  const long fds_before = server->open_fds();
  ASSERT_GT(fds_before, 0);
  for (int i = 0; i < 300; ++i) {
    if (i % 3 == 2) {
      // Upgraded, then an RST: no close frame, no FIN.
      raw_socket s(server->base_url());
      ASSERT_TRUE(s.connected());
      s.send(upgrade_request());
      ASSERT_NE(s.read_until("\r\n\r\n").find(" 101 "), std::string::npos);
      s.drop(true);
      continue;
    }
    // Subscribed, then the client closes TCP without a close frame (a FIN).
    ws_client c(server->base_url(), "/v1/stream?access_token=" + admin_token);
    ASSERT_TRUE(c.connected());
    c.send(R"({"op":"subscribe","channels":["sessions"]})");
    if (i % 3 == 0) {
      ASSERT_TRUE(c.read(2s));
    }
  }
  EXPECT_TRUE(eventually([&] { return server->open_fds() <= fds_before + 2; }))
      << "descriptors: " << fds_before << " before, " << server->open_fds() << " after";
  EXPECT_TRUE(eventually(
      [&] { return server->metric(R"(tally_connections_open{protocol="websocket"})") == 0; }));
  // Idle means idle: no connection left polling.
  const auto cpu_before = server->cpu_time();
  std::this_thread::sleep_for(2s);
  EXPECT_LT((server->cpu_time() - cpu_before).count(), 200)
      << "the idle server used CPU after the clients left";
  EXPECT_EQ(admin->get("/healthz").status, 200);
}

TEST_F(transport, a_websocket_that_closes_cleanly_is_gone_at_once) {
  start();
  ASSERT_EQ(admin->get("/healthz").status, 200);
  const long fds_before = server->open_fds();
  for (int i = 0; i < 50; ++i) {
    raw_socket s(server->base_url());
    s.send(upgrade_request());
    ASSERT_NE(s.read_until("\r\n\r\n").find(" 101 "), std::string::npos);
    // A masked close frame, code 1000.
    s.send(std::string("\x88\x82\x00\x00\x00\x00\x03\xe8", 8));
    auto reply = s.read_all(2s);
    EXPECT_TRUE(s.closed()) << "the server kept the connection after the close handshake";
    ASSERT_GE(reply.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(reply[0]), 0x88) << "no close frame in reply";
  }
  EXPECT_TRUE(eventually([&] { return server->open_fds() <= fds_before + 2; }));
}

TEST_F(transport, a_slow_websocket_client_gets_the_1008_close_frame_after_whole_frames) {
  start();
  auto customer =
      str(at(admin->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
  std::vector<std::string> sessions;
  for (int i = 0; i < 100; ++i)
    sessions.push_back(str(
        at(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
               .json(),
           {"session_id"})));
  ws_client slow(server->base_url(), "/v1/stream?access_token=" + admin_token, 4096);
  ASSERT_TRUE(slow.connected());
  slow.send(R"({"op":"subscribe","channels":["sessions"]})");
  // More than the 2 000 messages a client may have waiting: post until the
  // server says it cut the client off (or 20 000 notes, if it never does).
  std::atomic<bool> cut{false};
  std::thread monitor([&] {
    for (int i = 0; i < 600 && !cut; ++i) {
      if (server->metric("tally_ws_dropped_total") >= 1) cut = true;
      std::this_thread::sleep_for(100ms);
    }
    cut = true;
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      auto c = server->client("admin");
      for (int i = w; i < 20000 && !cut; i += 4)
        c->post(
            "/v1/sessions/" + sessions[static_cast<std::size_t>(i) % sessions.size()] + "/notes",
            R"({"text":"a note long enough to fill buffers quickly, over and over again"})");
    });
  for (auto& t : writers) t.join();
  cut = true;
  monitor.join();
  // The client is slow for a few seconds more (a phone on a bad network)
  // before it reads again: the close must still be waiting for it.
  std::this_thread::sleep_for(4s);
  // Every frame that arrives is whole (the client would fail to parse a cut
  // one), and the last thing is the close frame with 1008.
  std::optional<int> close_code;
  int messages = 0;
  while (!close_code) {
    auto m = slow.read(5s);
    if (!m) break;
    if (m->is_close)
      close_code = m->close_code;
    else
      ++messages;
  }
  ASSERT_TRUE(close_code) << "cut without a close frame after " << messages << " messages";
  EXPECT_EQ(*close_code, 1008);
  EXPECT_LT(messages, 20000);
  EXPECT_GE(server->metric("tally_ws_dropped_total"), 1);
}

TEST_F(transport, a_websocket_may_hold_a_bounded_number_of_channels) {
  start();
  ws_client c(server->base_url(), "/v1/stream?access_token=" + admin_token);
  std::string many = "[";
  for (int i = 0; i < 300; ++i)
    many += (i ? ",\"session:s" : "\"session:s") + std::to_string(i) + "\"";
  many += "]";
  c.send(R"({"op":"subscribe","channels":)" + many + "}");
  auto m = c.read(2s);
  ASSERT_TRUE(m);
  EXPECT_EQ(str(at(m->json(), {"op"})), "error") << m->text;
  EXPECT_EQ(str(at(m->json(), {"code"})), "invalid_request");
  c.send(R"({"op":"subscribe","channels":["sessions"]})");
  auto ok = c.read(2s);
  ASSERT_TRUE(ok);
  EXPECT_EQ(str(at(ok->json(), {"op"})), "subscribed") << ok->text;
}

TEST_F(transport, a_stop_closes_idle_connections_and_tells_websocket_clients_1001) {
  start();
  auto c =
      std::make_unique<ws_client>(server->base_url(), "/v1/stream?access_token=" + admin_token);
  ASSERT_TRUE(c->connected());
  c->send(R"({"op":"subscribe","channels":["sessions"]})");
  ASSERT_TRUE(c->read(2s));
  raw_socket idle(server->base_url());  // an idle keep-alive connection
  ASSERT_EQ(admin->get("/healthz").status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { EXPECT_EQ(server->stop(), 0); });
  auto m = c->read_until([](const ws_message& m) { return m.is_close; }, 5s);
  ASSERT_TRUE(m) << "no close frame on shutdown";
  EXPECT_EQ(m->close_code, 1001);
  c.reset();  // the client goes (this small client does not answer close frames)
  stopper.join();
  // Nothing waited for the 8 s drain or a 30 s idle timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(transport, an_unknown_transfer_coding_is_501_and_the_connection_is_closed) {
  start();
  for (const std::string te : {"xchunked", "identity", "gzip"}) {
    auto out =
        refused("POST /v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + admin_token +
                "\r\nContent-Type: application/json\r\nTransfer-Encoding: " + te + "\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 501", 0), 0u) << te << ": " << out;
    EXPECT_NE(out.find("not_implemented"), std::string::npos);
  }
  // A coding under chunked is a coding the server cannot undo.
  auto out =
      refused("POST /v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + admin_token +
              "\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
              "d\r\n{\"name\":\"Al\"}\r\n0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 501", 0), 0u) << out;
  // Nothing was registered by any of them.
  auto list = admin->get("/v1/customers");
  EXPECT_EQ(at(list.json(), {"items"}).as_array().size(), 0u) << list.body;
}

TEST_F(transport, transfer_encoding_with_content_length_or_no_host_is_400_and_closes) {
  start();
  auto both =
      refused("POST /v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + admin_token +
              "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
              "d\r\n{\"name\":\"Al\"}\r\n0\r\n\r\n");
  EXPECT_EQ(both.rfind("HTTP/1.1 400", 0), 0u) << both;
  EXPECT_NE(both.find("Content-Length"), std::string::npos);
  auto no_host = refused("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.rfind("HTTP/1.1 400", 0), 0u) << no_host;
  EXPECT_NE(no_host.find("Host"), std::string::npos);
  // HTTP/1.0 has no Host requirement.
  raw_socket old(server->base_url());
  old.send("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_NE(old.read_all(2s).find(" 200 "), std::string::npos);
  EXPECT_GE(server->metric("tally_http_framing_rejected_total"), 1);
}

TEST_F(transport, chunked_bodies_still_work) {
  start();
  raw_socket s(server->base_url());
  s.send("POST /v1/customers HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + admin_token +
         "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
         "d\r\n{\"name\":\"Al\"}\r\n0\r\n\r\n");
  auto out = s.read_all(1s);
  EXPECT_EQ(out.rfind("HTTP/1.1 201", 0), 0u) << out;
  EXPECT_FALSE(s.closed());
}

TEST_F(transport, running_out_of_descriptors_backs_off_and_recovers) {
  const std::string log = (dir.path() / "server.log").string();
  start({.max_open_files = 200, .log_file = log});
  ASSERT_EQ(admin->get("/healthz").status, 200);
  const auto cpu_before = server->cpu_time();
  std::vector<std::unique_ptr<raw_socket>> hogs;
  for (int i = 0; i < 260; ++i) hogs.push_back(std::make_unique<raw_socket>(server->base_url()));
  std::this_thread::sleep_for(2s);
  const auto cpu_used = server->cpu_time() - cpu_before;
  hogs.clear();
  EXPECT_TRUE(eventually([&] { return admin->get("/healthz").status == 200; }));
  EXPECT_GE(server->metric("tally_accept_failures_total"), 1);
  std::ifstream in(log);
  int lines = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("accept") != std::string::npos) ++lines;
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 3) << "accept failures logged " << lines << " times in 2 s";
  EXPECT_LT(cpu_used.count(), 1000) << "accept spun while out of descriptors";
}

TEST_F(transport, a_problem_lists_a_bounded_number_of_errors_and_counts_the_rest) {
  start();
  std::string body = "{";
  for (int i = 0; i < 500; ++i) body += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":1";
  body += "}";
  auto r = admin->post("/v1/customers", body);
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(at(r.json(), {"errors"}).as_array().size(), 50u);
  EXPECT_GE(num(at(r.json(), {"errors_omitted"})), 450);
  EXPECT_LT(r.body.size(), 8u * 1024);
}

}  // namespace
