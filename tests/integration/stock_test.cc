// Stock that no session holds for ever, against the real server on both
// logs: appointments take no items, and a write-down's reduced line reaches
// the pick list whole.

#include "support/api_flow.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

using namespace tally::testing;

namespace {

struct stock : api_flow {
  void mugs(int quantity) {
    ASSERT_EQ(admin
                  ->put("/v1/inventory/mug",
                        R"({"name":"Mug","unit":"pcs","unit_price_cents":1200,"location":"B3"})")
                  .status,
              200);
    ok(admin->post("/v1/inventory/mug/receipts",
                   R"({"quantity":)" + std::to_string(quantity) + "}"));
  }
};

TEST_F(stock, an_appointment_takes_no_items_and_holds_no_stock) {
  mugs(5);
  const auto id = booked(customer("Cleo"), 1000);
  advance(3600);
  ok(admin->post("/v1/sessions/" + id + "/start"));
  auto added = admin->post("/v1/sessions/" + id + "/items", R"({"item_id":"mug","quantity":2})");
  EXPECT_EQ(added.status, 409) << added.body;  // it was 201, and the stock held for good
  EXPECT_EQ(added.code(), "wrong_kind");
  auto mug = read(*admin, "/v1/inventory/mug");
  EXPECT_EQ(num(at(mug, {"reserved"})), 0);
  EXPECT_EQ(num(at(mug, {"available"})), 5);
  EXPECT_EQ(at(read(*admin, "/v1/sessions/" + id), {"lines"}).as_array().size(), 0u);
}

TEST_F(stock, a_reduced_line_reaches_the_pick_list_whole) {
  mugs(3);
  const auto c = customer("Ann");
  auto started =
      ok(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + c + R"("})"), 201);
  const auto sid = str(at(started.json(), {"session_id"}));
  const auto line = str(
      at(ok(admin->post("/v1/sessions/" + sid + "/items", R"({"item_id":"mug","quantity":3})"), 201)
             .json(),
         {"line_id"}));
  http_client picker(server->base_url());
  picker.token = server->token("warehouse", "acme", "picker-1");
  ok(picker.post("/v1/sessions/" + sid + "/items/" + line + "/pick", R"({"quantity":1})"));
  ws_client ws(server->base_url(), "/v1/stream?access_token=" + picker.token);
  ASSERT_TRUE(ws.connected());
  ws.send(R"({"op":"subscribe","channels":["picklist"]})");
  ASSERT_TRUE(ws.read());  // subscribed
  ok(picker.post("/v1/inventory/mug/adjustments", R"({"delta":-1,"reason":"broken"})"));
  auto reduced = ws.read_until(
      [](const ws_message& m) { return str(at(m.json(), {"type"})) == "picklist.line_reduced"; });
  ASSERT_TRUE(reduced);
  const auto l = at(reduced->json(), {"line"});
  EXPECT_EQ(str(at(l, {"location"})), "B3") << reduced->text;                    // it was ""
  EXPECT_EQ(str(at(l, {"picked_by", "user_id"})), "picker-1") << reduced->text;  // it was null
  EXPECT_FALSE(at(l, {"added_at"}).is_null()) << reduced->text;
  EXPECT_FALSE(at(l, {"picked_at"}).is_null()) << reduced->text;
  EXPECT_EQ(num(at(l, {"quantity"})), 2) << reduced->text;
  // The event carries the item's location and unit.
  auto history = at(read(*auditor, "/v1/sessions/" + sid + "/events"), {"items"}).as_array();
  EXPECT_EQ(str(at(history.back(), {"type"})), "ItemReduced");
  EXPECT_EQ(str(at(history.back(), {"data", "location"})), "B3");
  EXPECT_EQ(str(at(history.back(), {"data", "unit"})), "pcs");
}

}  // namespace
