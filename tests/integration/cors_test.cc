// Issue #10 (first part): browsers on other origins (CORS, the Fetch
// standard) and Allow on 405 (RFC 9110), against the real server.

#include "support/raw_socket.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>

using namespace tally::testing;

namespace {

const std::string app = "https://app.example.com";

bool has(const std::string& list, const std::string& item) {
  return list.find(item) != std::string::npos;
}

TEST(cors, an_allowed_origin_gets_preflights_and_headers_a_foreign_one_none) {
  temp_dir dir;
  server_options o;
  o.extra_args = {"--cors-origins", app + ", https://admin.example.com"};
  tally_server server(dir.str(), false, o);
  http_client anon(server.base_url());

  // Preflight of a POST with the headers a browser app sends.
  auto pre = anon.request("OPTIONS", "/v1/customers", "",
                          {"Origin: " + app, "Access-Control-Request-Method: POST",
                           "Access-Control-Request-Headers: authorization, content-type, "
                           "idempotency-key"});
  EXPECT_EQ(pre.status, 204) << pre.body;
  EXPECT_EQ(pre.header("access-control-allow-origin"), app);
  EXPECT_TRUE(has(pre.header("access-control-allow-methods"), "POST"));
  EXPECT_TRUE(has(pre.header("access-control-allow-methods"), "GET"));
  for (const auto* h : {"Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                        "If-None-Match", "Tally-Min-Position"})
    EXPECT_TRUE(has(pre.header("access-control-allow-headers"), h)) << h;
  EXPECT_FALSE(pre.header("access-control-max-age").empty());
  EXPECT_EQ(pre.header("vary"), "Origin");
  EXPECT_TRUE(pre.body.empty());
  // A path with parameters: the methods of that resource.
  auto items = anon.request("OPTIONS", "/v1/sessions/s1/items", "",
                            {"Origin: " + app, "Access-Control-Request-Method: POST"});
  EXPECT_EQ(items.status, 204);
  EXPECT_EQ(items.header("access-control-allow-methods"), "POST");

  // Simple and actual requests: success and failure both carry the headers.
  auto admin = server.client("admin");
  auto created = admin->post("/v1/customers", R"({"name":"Ann"})", {"Origin: " + app});
  EXPECT_EQ(created.status, 201);
  EXPECT_EQ(created.header("access-control-allow-origin"), app);
  for (const auto* h : {"Tally-Position", "Tally-Server-Time", "ETag", "Retry-After", "Location"})
    EXPECT_TRUE(has(created.header("access-control-expose-headers"), h)) << h;
  auto missing = admin->get("/v1/customers/nobody", {"Origin: https://admin.example.com"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("access-control-allow-origin"), "https://admin.example.com");

  // A foreign origin, or none: no CORS headers at all; its preflight is a 405.
  for (const std::vector<std::string>& headers :
       {std::vector<std::string>{"Origin: https://evil.example.com"},
        std::vector<std::string>{"Origin: https://app.example.com:8443"},
        std::vector<std::string>{}}) {
    auto r = admin->get("/v1/customers", headers);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.header("access-control-allow-origin").empty());
    EXPECT_TRUE(r.header("access-control-expose-headers").empty());
  }
  auto foreign =
      anon.request("OPTIONS", "/v1/customers", "",
                   {"Origin: https://evil.example.com", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(foreign.status, 405);
  EXPECT_TRUE(foreign.header("access-control-allow-origin").empty());
}

TEST(cors, none_by_default_and_every_origin_with_a_star) {
  {
    temp_dir dir;
    tally_server server(dir.str(), false);
    http_client anon(server.base_url());
    auto pre = anon.request("OPTIONS", "/v1/customers", "",
                            {"Origin: " + app, "Access-Control-Request-Method: GET"});
    EXPECT_EQ(pre.status, 405);
    EXPECT_TRUE(pre.header("access-control-allow-origin").empty());
  }
  temp_dir dir;
  server_options o;
  o.env = {"TALLY_CORS_ORIGINS=*"};
  tally_server server(dir.str(), false, o);
  auto r = server.client("admin")->get("/v1/customers", {"Origin: https://anything.example"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
}

TEST(http_conventions, a_405_names_the_allowed_methods) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  auto admin = server.client("admin");
  auto r = admin->request("DELETE", "/v1/settings");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.code(), "method_not_allowed");
  EXPECT_TRUE(has(r.header("allow"), "GET"));
  EXPECT_TRUE(has(r.header("allow"), "PUT"));
  EXPECT_FALSE(has(r.header("allow"), "DELETE"));
  auto s = admin->request("PUT", "/v1/sessions/s1");
  EXPECT_EQ(s.status, 405);
  EXPECT_EQ(s.header("allow"), "GET, HEAD, PATCH");
}

TEST(http_conventions, head_is_get_without_the_body) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  auto admin = server.client("admin");
  auto created = admin->post("/v1/customers", R"({"name":"Ann"})");
  ASSERT_EQ(created.status, 201);
  const auto id = str(at(created.json(), {"customer_id"}));
  const std::vector<std::string> fresh{"Tally-Min-Position: " + created.header("tally-position")};
  auto get = admin->get("/v1/customers/" + id, fresh);
  auto head = admin->request("HEAD", "/v1/customers/" + id, "", fresh);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(head.header("etag"), get.header("etag"));
  EXPECT_EQ(admin->request("HEAD", "/v1/customers").status, 200);
  auto not_a_get = admin->request("HEAD", "/v1/bookings");
  EXPECT_EQ(not_a_get.status, 405);
  EXPECT_EQ(not_a_get.header("allow"), "POST");
}

TEST(http_conventions, reads_of_one_resource_answer_an_etag_and_304_and_if_match_follows_rfc_9110) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  auto admin = server.client("admin");
  auto created = admin->post("/v1/customers", R"({"name":"Ann"})");
  const auto id = str(at(created.json(), {"customer_id"}));
  const auto path = "/v1/customers/" + id;
  std::vector<std::string> fresh{"Tally-Min-Position: " + created.header("tally-position")};
  auto first = admin->get(path, fresh);
  EXPECT_EQ(first.header("etag"), "\"1\"");
  auto cached = fresh;
  cached.push_back("If-None-Match: \"1\"");
  auto not_modified = admin->get(path, cached);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.header("etag"), "\"1\"");
  auto weak = fresh;
  weak.push_back("If-None-Match: W/\"1\", \"7\"");
  EXPECT_EQ(admin->get(path, weak).status, 304);  // weak comparison
  auto other = fresh;
  other.push_back("If-None-Match: \"7\"");
  EXPECT_EQ(admin->get(path, other).status, 200);
  // If-Match: * matches any existing resource; a weak tag never matches.
  auto any = admin->put(path, R"({"name":"Ann B"})", {"If-Match: *"});
  EXPECT_EQ(any.status, 200) << any.body;
  fresh = {"Tally-Min-Position: " + any.header("tally-position")};
  EXPECT_EQ(admin->get(path, fresh).header("etag"), "\"2\"");
  cached = fresh;
  cached.push_back("If-None-Match: \"1\"");
  EXPECT_EQ(admin->get(path, cached).status, 200);  // changed since
  auto weak_match = admin->put(path, R"({"name":"Ann C"})", {"If-Match: W/\"2\""});
  EXPECT_EQ(weak_match.status, 412) << weak_match.body;
  EXPECT_EQ(weak_match.code(), "version_conflict");
  auto create = admin->put("/v1/inventory/new-item", R"({"name":"New","unit_price_cents":1})",
                           {"If-Match: *"});
  EXPECT_EQ(create.status, 412) << create.body;
  EXPECT_EQ(admin->get("/v1/inventory/new-item").status, 404);
  EXPECT_EQ(admin->put(path, R"({"name":"Ann D"})", {"If-Match: \"2\""}).status, 200);
  // Other reads of one resource carry their version too.
  auto settings = admin->get("/v1/settings");
  EXPECT_FALSE(settings.header("etag").empty());
}

TEST(http_conventions, gzip_for_a_client_that_accepts_it_above_one_kib) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  auto admin = server.client("admin");
  std::string last;
  for (int i = 0; i < 20; ++i)
    last =
        admin
            ->post("/v1/customers", R"({"name":"Customer number )" + std::to_string(i) +
                                        R"(","email":"c)" + std::to_string(i) + R"(@example.com"})")
            .header("tally-position");
  const std::string fresh = "Tally-Min-Position: " + last;
  auto plain = admin->get("/v1/customers", {fresh});
  ASSERT_EQ(plain.status, 200);
  ASSERT_GT(plain.body.size(), 1024u);
  EXPECT_TRUE(plain.header("content-encoding").empty());
  EXPECT_TRUE(has(plain.header("vary"), "Accept-Encoding"));

  auto packed = admin->get("/v1/customers", {fresh, "Accept-Encoding: br, gzip;q=0.8"});
  EXPECT_EQ(packed.status, 200);
  EXPECT_EQ(packed.header("content-encoding"), "gzip");
  EXPECT_TRUE(has(packed.header("vary"), "Accept-Encoding"));
  EXPECT_LT(packed.body.size(), plain.body.size());
  EXPECT_EQ(gunzip(packed.body), plain.body);
  // HEAD: the same header, the compressed length.
  auto head = admin->request("HEAD", "/v1/customers", "", {fresh, "Accept-Encoding: gzip"});
  EXPECT_EQ(head.header("content-encoding"), "gzip");
  EXPECT_EQ(head.header("content-length"), std::to_string(packed.body.size()));

  // Refused, not offered, or too small to be worth it: as it is.
  for (const auto* refuse :
       {"Accept-Encoding: gzip;q=0", "Accept-Encoding: identity", "Accept-Encoding: *;q=0"}) {
    auto r = admin->get("/v1/customers", {fresh, refuse});
    EXPECT_TRUE(r.header("content-encoding").empty()) << refuse;
    EXPECT_EQ(r.body, plain.body) << refuse;
  }
  EXPECT_EQ(admin->get("/v1/customers", {fresh, "Accept-Encoding: *"}).header("content-encoding"),
            "gzip");
  auto small = admin->get("/healthz", {"Accept-Encoding: gzip"});
  EXPECT_TRUE(small.header("content-encoding").empty());
  EXPECT_EQ(small.body, R"({"status":"ok"})");
}

TEST(http_conventions, the_websocket_upgrade_answers_like_every_response_and_nothing_says_beast) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  raw_socket sock(server.base_url());
  ASSERT_TRUE(sock.connected());
  ASSERT_TRUE(sock.send("GET /v1/stream?access_token=" + server.token("admin") +
                        " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"));
  const auto head = sock.read_until("\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101")) << head;
  EXPECT_TRUE(has(head, "\r\nDate: ")) << head;
  EXPECT_TRUE(has(head, "\r\nTally-Server-Time: ")) << head;
  EXPECT_TRUE(has(head, "\r\nServer: tally\r\n")) << head;
  EXPECT_FALSE(has(head, "Beast")) << head;
  // Nor on any other answer, refused upgrades included.
  http_client anon(server.base_url());
  for (const auto* path : {"/healthz", "/v1/nothing", "/v1/stream"}) {
    auto r = anon.get(path, {"Upgrade: websocket", "Connection: Upgrade"});
    EXPECT_EQ(r.header("server"), "tally") << path;
    EXPECT_FALSE(r.header("date").empty()) << path;
  }
}

}  // namespace
