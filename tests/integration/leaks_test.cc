// What one caller could learn of, or take from, another (issue #7): shared
// idempotency keys, a public booking that tells who owns an e-mail address,
// tokens where they should not be, bytes that should not be in a name.

#include "support/tally_process.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <fstream>

using namespace tally::testing;

namespace {

struct leaks : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
  }
  std::string customer(const std::string& name, const std::string& email) {
    auto r =
        admin->post("/v1/customers", R"({"name":")" + name + R"(","email":")" + email + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return str(at(r.json(), {"customer_id"}));
  }
  // A token signed with the server's own secret, with these grants.
  std::string signed_token(const std::string& grants) const {
    // The server's secret: TALLY_JWT_SECRET (Kafka mode) or the data directory's.
    std::string secret;
    if (const char* env = std::getenv("TALLY_JWT_SECRET"); env && *env) {
      secret = env;
    } else {
      std::ifstream in(dir.path() / "jwt-secret");
      secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    jwt_t* j = nullptr;
    jwt_new(&j);
    jwt_add_grants_json(j, grants.c_str());
    jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                static_cast<int>(secret.size()));
    char* raw = jwt_encode_str(j);
    std::string out = raw ? raw : "";
    std::free(raw);
    jwt_free(j);
    return out;
  }
};

TEST_F(leaks, idempotency_keys_belong_to_the_caller_not_the_tenant) {
  const auto ann = customer("Ann", "ann@example.com");
  const auto bob = customer("Bob", "bob@example.com");
  http_client a(server->base_url()), b(server->base_url());
  a.token = server->token("customer", "acme", ann);
  b.token = server->token("customer", "acme", bob);
  const std::string body = R"({"title":"Advice","duration_minutes":30})";
  const std::vector<std::string> key{"Idempotency-Key: booking-1"};
  auto first = a.post("/v1/bookings", body, key);
  auto second = b.post("/v1/bookings", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_TRUE(second.header("idempotent-replayed").empty()) << "Bob was answered from Ann's key";
  EXPECT_NE(str(at(first.json(), {"session_id"})), str(at(second.json(), {"session_id"})));
  EXPECT_EQ(str(at(second.json(), {"customer", "customer_id"})), bob);
  // Each caller's own retry is still answered from its record.
  auto again = b.post("/v1/bookings", body, key);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(str(at(again.json(), {"session_id"})), str(at(second.json(), {"session_id"})));
}

TEST_F(leaks, a_public_booking_answers_the_booking_not_the_customer_behind_the_email) {
  const auto ann = customer("Ann Private", "ann@example.com");
  http_client pub(server->base_url());
  pub.token = server->token("public");
  auto r = pub.post(
      "/v1/bookings",
      R"({"customer":{"name":"Someone","email":"ann@example.com"},"title":"Advice","duration_minutes":30})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body.find(ann), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("Ann Private"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("subscribed"), std::string::npos) << r.body;
  EXPECT_FALSE(str(at(r.json(), {"session_id"})).empty());
  EXPECT_EQ(str(at(r.json(), {"status"})), "requested");
  EXPECT_EQ(num(at(r.json(), {"duration_minutes"})), 30);
  // Staff still see whose it is.
  auto staff = admin->get("/v1/sessions/" + str(at(r.json(), {"session_id"})),
                          {"Tally-Min-Position: " + r.header("tally-position")});
  EXPECT_EQ(str(at(staff.json(), {"customer", "customer_id"})), ann);
}

TEST_F(leaks, access_token_in_the_query_is_refused_on_rest_paths) {
  const auto token = server->token("admin");
  http_client anon(server->base_url());
  auto get = anon.get("/v1/customers?access_token=" + token);
  EXPECT_EQ(get.status, 401);
  EXPECT_EQ(get.code(), "unauthorized");
  auto post = anon.post("/v1/customers?access_token=" + token, R"({"name":"Al"})");
  EXPECT_EQ(post.status, 401);
  auto list = admin->get("/v1/customers");
  EXPECT_EQ(at(list.json(), {"items"}).as_array().size(), 0u) << "the POST was run";
}

TEST_F(leaks, a_token_is_not_accepted_before_its_nbf) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  http_client c(server->base_url());
  c.token =
      signed_token(R"({"sub":"u","tenant":"acme","roles":["admin"],"exp":)" +
                   std::to_string(now + 7200) + R"(,"nbf":)" + std::to_string(now + 3600) + "}");
  auto early = c.get("/v1/customers");
  EXPECT_EQ(early.status, 401) << early.body;
  c.token =
      signed_token(R"({"sub":"u","tenant":"acme","roles":["admin"],"exp":)" +
                   std::to_string(now + 7200) + R"(,"nbf":)" + std::to_string(now - 60) + "}");
  EXPECT_EQ(c.get("/v1/customers").status, 200);
}

TEST_F(leaks, a_nul_in_a_name_is_refused_and_names_the_field) {
  auto r = admin->post("/v1/customers", R"({"name":"Al\u0000ice"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.fields(), std::vector<std::string>{"name"});
  auto item = admin->put("/v1/inventory/mug", R"({"name":"Mug\u0000","unit_price_cents":100})");
  EXPECT_EQ(item.status, 400);
  auto list = admin->get("/v1/customers");
  EXPECT_EQ(at(list.json(), {"items"}).as_array().size(), 0u);
}

}  // namespace
