// Bad input gets the documented error, names the field, and appends nothing.

#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <jwt.h>

using namespace tally::testing;

namespace {

struct bad_input : ::testing::Test {
  static inline temp_dir* dir = nullptr;
  static inline tally_server* server = nullptr;
  std::unique_ptr<http_client> admin;
  std::string customer, resource, session;

  static void SetUpTestSuite() {
    dir = new temp_dir();
    server = new tally_server(dir->str());
  }
  static void TearDownTestSuite() {
    delete server;
    delete dir;
  }
  void SetUp() override {
    admin = server->client("admin");
    customer = str(at(admin->post("/v1/customers", R"({"name":"Al"})").json(), {"customer_id"}));
    resource =
        str(at(admin->post("/v1/resources", R"({"name":"PC","hourly_rate_cents":100})").json(),
               {"resource_id"}));
    admin->put("/v1/inventory/chips", R"({"name":"Chips","unit_price_cents":100})");
    admin->post("/v1/inventory/chips/receipts", R"({"quantity":5})");
    session = str(at(admin
                         ->post("/v1/sessions", R"({"kind":"metered","customer_id":")" + customer +
                                                    R"(","resource_id":")" + resource + R"("})")
                         .json(),
                     {"session_id"}));
    ASSERT_FALSE(session.empty());
  }
  void TearDown() override { admin->post("/v1/sessions/" + session + "/end"); }

  // The offset of the log's last event, from /metrics (it must be there:
  // a missing series would make every comparison below pass).
  std::int64_t log_end() {
    auto m = admin->get("/metrics").body;
    const std::string key = "tally_log_last_offset{partition=\"0\"} ";
    auto at_key = m.find(key);
    EXPECT_NE(at_key, std::string::npos) << m;
    return at_key == std::string::npos ? -1 : std::stoll(m.substr(at_key + key.size()));
  }

  void expect_refused(const response& r, long status, const std::string& code,
                      const std::vector<std::string>& fields = {}) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.code(), code) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    for (const auto& f : fields) {
      auto got = r.fields();
      EXPECT_NE(std::find(got.begin(), got.end(), f), got.end())
          << "field " << f << " not named in " << r.body;
    }
  }
};

TEST_F(bad_input, malformed_json_wrong_types_missing_and_unknown_fields) {
  const auto before = log_end();
  const std::string items = "/v1/sessions/" + session + "/items";
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": )"), 400, "invalid_request",
                 {"body"});
  expect_refused(admin->post(items, R"([1, 2, 3])"), 400, "invalid_request", {"body"});
  expect_refused(admin->post(items, R"({"item_id": 7, "quantity": "two"})"), 400, "invalid_request",
                 {"item_id", "quantity"});
  expect_refused(admin->post(items, R"({"quantity": 1})"), 400, "invalid_request", {"item_id"});
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": 1, "discount": 5})"), 400,
                 "invalid_request", {"discount"});
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": 1, "quantity": 2})"), 400,
                 "invalid_request", {"quantity"});
  expect_refused(admin->post("/v1/customers", "\xff\xfe"), 400, "invalid_request", {"body"});
  EXPECT_EQ(log_end(), before);
}

TEST_F(bad_input, negative_zero_and_absurd_numbers) {
  const auto before = log_end();
  const std::string items = "/v1/sessions/" + session + "/items";
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": -2})"), 400,
                 "invalid_request", {"quantity"});
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": 0})"), 400,
                 "invalid_request", {"quantity"});
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": 9007199254740993})"), 400,
                 "invalid_request", {"quantity"});
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": 1e300})"), 400,
                 "invalid_request", {"quantity"});
  expect_refused(admin->post(items, R"({"item_id": "chips", "quantity": 1.5})"), 400,
                 "invalid_request", {"quantity"});
  expect_refused(admin->post("/v1/resources", R"({"name": "X", "hourly_rate_cents": -1})"), 400,
                 "invalid_request", {"hourly_rate_cents"});
  expect_refused(admin->post("/v1/inventory/chips/adjustments", R"({"delta": 0, "reason": ""})"),
                 400, "invalid_request", {"delta", "reason"});
  expect_refused(admin->post("/v1/sessions", R"({"kind": "rocket", "customer_id": "x"})"), 400,
                 "invalid_request", {"kind"});
  EXPECT_EQ(log_end(), before);
}

TEST_F(bad_input, a_body_over_one_mebibyte_is_refused) {
  const auto before = log_end();
  std::string huge = R"({"name": ")" + std::string(1024 * 1024 + 10, 'a') + R"("})";
  expect_refused(admin->post("/v1/customers", huge), 413, "payload_too_large");
  EXPECT_EQ(log_end(), before);
  // The server is fine afterwards.
  EXPECT_EQ(admin->get("/healthz").status, 200);
}

TEST_F(bad_input, missing_bad_expired_and_foreign_tokens) {
  http_client anon(server->base_url());
  expect_refused(anon.get("/v1/customers"), 401, "unauthorized");
  anon.token = "not.a.token";
  expect_refused(anon.get("/v1/customers"), 401, "unauthorized");
  anon.token = server->token("admin", "acme", "", "1s");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  expect_refused(anon.get("/v1/customers"), 401, "unauthorized");
  // Signed with another secret.
  jwt_t* j = nullptr;
  jwt_new(&j);
  jwt_add_grants_json(j, R"({"sub":"x","tenant":"acme","roles":["admin"],"exp":4102444800})");
  const std::string other = "another-secret";
  jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(other.data()),
              static_cast<int>(other.size()));
  char* forged = jwt_encode_str(j);
  anon.token = forged;
  std::free(forged);
  expect_refused(anon.get("/v1/customers"), 401, "unauthorized");
  // alg "none".
  jwt_set_alg(j, JWT_ALG_NONE, nullptr, 0);
  char* unsigned_token = jwt_encode_str(j);
  anon.token = unsigned_token;
  std::free(unsigned_token);
  jwt_free(j);
  expect_refused(anon.get("/v1/customers"), 401, "unauthorized");
}

TEST_F(bad_input, a_role_that_may_not_is_forbidden) {
  auto warehouse = server->client("warehouse");
  expect_refused(warehouse->post("/v1/customers", R"({"name":"X"})"), 403, "forbidden");
  expect_refused(warehouse->post("/v1/sessions/" + session + "/end"), 403, "forbidden");
  auto host = server->client("host");
  expect_refused(host->post("/v1/resources", R"({"name":"X","hourly_rate_cents":1})"), 403,
                 "forbidden");
  expect_refused(host->post("/v1/customers", R"({"name":"X","subscribed":true})"), 403,
                 "forbidden");
  auto auditor = server->client("auditor");
  expect_refused(auditor->get("/v1/settings"), 403, "forbidden");
  EXPECT_EQ(auditor->get("/v1/events").status, 200);
}

TEST_F(bad_input, another_tenants_ids_are_not_found) {
  auto other = server->client("admin", "globex");
  const auto before = log_end();
  expect_refused(other->get("/v1/sessions/" + session), 404, "not_found");
  expect_refused(other->get("/v1/customers/" + customer), 404, "not_found");
  expect_refused(other->post("/v1/sessions/" + session + "/end"), 404, "not_found");
  expect_refused(
      other->post("/v1/sessions/" + session + "/items", R"({"item_id":"chips","quantity":1})"), 404,
      "not_found");
  expect_refused(other->post("/v1/sessions", R"({"kind":"metered","customer_id":")" + customer +
                                                 R"(","resource_id":")" + resource + R"("})"),
                 404, "not_found");
  EXPECT_EQ(log_end(), before);
  EXPECT_TRUE(at(other->get("/v1/resources").json(), {"items"}).as_array().empty());
}

TEST_F(bad_input, unknown_paths_and_methods) {
  expect_refused(admin->get("/v1/nothing"), 404, "not_found");
  expect_refused(admin->request("PATCH", "/v1/customers"), 405, "method_not_allowed");
  expect_refused(admin->get("/v1/customers?limit=0"), 400, "invalid_request", {"limit"});
  expect_refused(admin->get("/v1/customers?cursor=zz"), 400, "invalid_request", {"cursor"});
  expect_refused(admin->get("/v1/customers", {"Tally-Min-Position: nonsense"}), 400,
                 "invalid_request", {"min_position"});
}

}  // namespace
