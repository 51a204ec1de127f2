// The server answers as its OpenAPI document says, where schemathesis
// (scripts/api_fuzz.sh) found that it did not: the methods a path takes, a
// bad body before a precondition, who asks before what is asked.

#include "support/tally_process.h"

#include <gtest/gtest.h>

using namespace tally::testing;

namespace {

struct openapi_conformance : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server = std::make_unique<tally_server>(dir.str());
  std::unique_ptr<http_client> admin = server->client("admin");
};

// /v1/sessions/bulk takes POST alone and /v1/sessions/active GET alone: they
// are never the session "bulk" or "active" (before, Allow named GET and
// PATCH of /v1/sessions/{id} there, and GET /v1/sessions/bulk was a 404).
TEST_F(openapi_conformance, a_literal_path_takes_only_the_methods_the_document_lists) {
  auto bulk = admin->request("OPTIONS", "/v1/sessions/bulk");
  EXPECT_EQ(bulk.status, 405) << bulk.body;
  EXPECT_EQ(bulk.header("allow"), "POST");
  auto get_bulk = admin->get("/v1/sessions/bulk");
  EXPECT_EQ(get_bulk.status, 405) << get_bulk.body;
  EXPECT_EQ(get_bulk.header("allow"), "POST");
  auto patch_active = admin->patch("/v1/sessions/active", R"({"title":"x"})");
  EXPECT_EQ(patch_active.status, 405) << patch_active.body;
  EXPECT_EQ(patch_active.header("allow"), "GET, HEAD");
  // A session's own path still takes what it did.
  auto some = admin->request("OPTIONS", "/v1/sessions/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(some.status, 405);
  EXPECT_EQ(some.header("allow"), "GET, HEAD, PATCH");
}

// A weak If-Match never matches (412), but a body that is not valid is 400
// first, whatever the precondition (before, 412 for a negative refund).
TEST_F(openapi_conformance, a_bad_body_is_400_before_a_weak_if_match_is_412) {
  const auto made = admin->post("/v1/customers", R"({"name":"Ann"})");
  const auto customer = str(at(made.json(), {"customer_id"}));
  auto r = admin->put("/v1/customers/" + customer, R"({"email":"not an e-mail"})",
                      {"If-Match: W/\"1\""});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.fields(), std::vector<std::string>{"email"});
  r = admin->put("/v1/customers/" + customer, R"({"name":"Ann B"})", {"If-Match: W/\"1\""});
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(r.code(), "version_conflict");
  // Nothing changed.
  auto now = admin->get("/v1/customers/" + customer,
                        {"Tally-Min-Position: " + made.header("tally-position")});
  EXPECT_EQ(str(at(now.json(), {"name"})), "Ann");
  EXPECT_EQ(now.header("etag"), "\"1\"");
}

// GET /v1/stream over plain HTTP: 401 without a good token, as every other
// path; with one, 400 naming Upgrade (before, 400 to anyone).
TEST_F(openapi_conformance, the_stream_asks_who_before_it_asks_for_an_upgrade) {
  http_client anon(server->base_url());
  auto r = anon.get("/v1/stream");
  EXPECT_EQ(r.status, 401) << r.body;
  r = anon.get("/v1/stream?access_token=not-a-token");
  EXPECT_EQ(r.status, 401) << r.body;
  r = admin->get("/v1/stream");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.fields(), std::vector<std::string>{"Upgrade"});
}

}  // namespace

namespace {

// A field a body may leave out takes null for "left out" (base/json.h), and
// the document says so (scripts/contracts.py makes every optional request
// field nullable; schemathesis found `address.postal_code: null` accepted
// where the document said string).
TEST_F(openapi_conformance, null_in_an_optional_field_is_the_field_left_out) {
  auto made = admin->post(
      "/v1/customers", R"({"name":"Ann","email":null,"address":{"city":"Oslo","postal_code":null,)"
                       R"("country":"NO"}})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_TRUE(at(made.json(), {"email"}).is_null());
  EXPECT_TRUE(at(made.json(), {"address", "postal_code"}).is_null());
  const auto id = str(at(made.json(), {"customer_id"}));
  auto same = admin->put("/v1/customers/" + id, R"({"name":null,"phone":null,"address":null})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(str(at(same.json(), {"name"})), "Ann");              // kept
  EXPECT_EQ(str(at(same.json(), {"address", "city"})), "Oslo");  // kept
  EXPECT_EQ(num(at(same.json(), {"version"})), 1);               // nothing recorded
}

}  // namespace
