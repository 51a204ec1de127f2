// What is owed and paid, against the real server on both logs (the suite
// runs again as kafka/…): cancelled and host-absent bookings owe nothing,
// bulk mark_paid reports per session, money paid in advance shows as due
// back, credit notes reduce what is owed, overpayment is refused, and
// attendance cannot be dated into the future.

#include "support/api_flow.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

using payments = api_flow;

TEST_F(payments, a_cancelled_booking_owes_nothing_and_bulk_mark_paid_reports_it) {
  const auto c = customer("Cleo");
  const auto cancelled = booked(c, 5000);
  const auto open = booked(c, 3000);
  ok(admin->post("/v1/sessions/" + cancelled + "/cancel", R"({"reason":"client called"})"));
  auto s = read(*admin, "/v1/sessions/" + cancelled);
  EXPECT_EQ(num(at(s, {"amount_due_cents"})), 0);  // it showed 5000
  auto pay = admin->post("/v1/sessions/" + cancelled + "/payments",
                         R"({"amount_cents":5000,"method":"card"})");
  EXPECT_EQ(pay.status, 409) << pay.body;
  EXPECT_EQ(pay.code(), "nothing_due");
  // Bulk mark_paid: a result per session, the cancelled one refused; and the
  // answer names the position it appended, so a read can wait for it.
  auto bulk = ok(admin->post("/v1/sessions/bulk", R"({"session_ids":[")" + cancelled + R"(",")" +
                                                      open + R"("],"action":"mark_paid"})"));
  ASSERT_FALSE(bulk.header("tally-position").empty()) << "bulk answered no Tally-Position";
  const auto results = at(bulk.json(), {"results"}).as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(num(at(results.at(0), {"status"})), 409);
  EXPECT_EQ(str(at(results.at(0), {"problem", "code"})), "nothing_due");
  EXPECT_EQ(num(at(results.at(1), {"status"})), 200);
  // Read your writes after a bulk action (on Kafka it used to read unpaid).
  auto paid = read(*admin, "/v1/sessions/" + open);
  EXPECT_EQ(str(at(paid, {"payment_status"})), "paid");
  EXPECT_EQ(num(at(paid, {"paid_cents"})), 3000);
  EXPECT_EQ(num(at(read(*admin, "/v1/sessions/" + cancelled), {"paid_cents"})), 0);
}

TEST_F(payments, a_payment_in_advance_on_a_cancelled_booking_shows_as_refund_due) {
  const auto id = booked(customer("Cleo"), 4000);
  ok(admin->post("/v1/sessions/" + id + "/payments", R"({"amount_cents":4000,"method":"card"})"));
  ok(admin->post("/v1/sessions/" + id + "/cancel"));
  EXPECT_EQ(num(at(read(*admin, "/v1/sessions/" + id), {"refund_due_cents"})), 4000);
  ok(admin->post("/v1/sessions/" + id + "/refunds",
                 R"({"amount_cents":4000,"reason":"cancelled"})"));
  auto after = read(*admin, "/v1/sessions/" + id);
  EXPECT_EQ(num(at(after, {"refund_due_cents"})), 0);
  EXPECT_EQ(str(at(after, {"payment_status"})), "refunded");
}

TEST_F(payments, a_host_absent_no_show_and_the_automatic_end_honour_attendance) {
  const auto c = customer("Cleo");
  const auto absent_host = booked(c, 1000);
  const auto absent_customer = booked(c, 1000);
  advance(3600 + 60);
  // The customer joined, the tutor never did: the automatic end is a no-show
  // of the host, charged nothing.
  ok(admin->post("/v1/sessions/" + absent_host + "/attendance",
                 R"({"party":"customer","action":"joined","source":"meet"})"),
     201);
  ok(tutor7->post("/v1/sessions/" + absent_customer + "/attendance",
                  R"({"party":"host","action":"joined"})"),
     201);
  advance(3600);
  bool ended = eventually([&] {
    auto a = admin->get("/v1/sessions/" + absent_host).json();
    auto b = admin->get("/v1/sessions/" + absent_customer).json();
    return str(at(a, {"status"})) == "ended" && str(at(b, {"status"})) == "ended";
  });
  ASSERT_TRUE(ended);
  auto a = admin->get("/v1/sessions/" + absent_host).json();
  EXPECT_EQ(str(at(a, {"outcome"})), "no_show");
  EXPECT_EQ(str(at(a, {"absent_party"})), "host");
  EXPECT_EQ(at(a, {"charges"}).as_array().size(), 0u);
  EXPECT_EQ(num(at(a, {"amount_due_cents"})), 0);
  auto b = admin->get("/v1/sessions/" + absent_customer).json();
  EXPECT_EQ(str(at(b, {"outcome"})), "no_show");
  EXPECT_EQ(str(at(b, {"absent_party"})), "customer");
  ASSERT_EQ(at(b, {"charges"}).as_array().size(), 1u);
  EXPECT_EQ(num(at(at(b, {"charges"}).as_array().at(0), {"amount_cents"})), 500);
  // ?outcome= filters (it was ignored and returned every session).
  auto no_shows = read(*admin, "/v1/sessions?outcome=no_show");
  EXPECT_EQ(at(no_shows, {"items"}).as_array().size(), 2u);
  EXPECT_EQ(at(read(*admin, "/v1/sessions?outcome=completed"), {"items"}).as_array().size(), 0u);
}

// ---- credit notes and overpayment (issue #24) ----------------------------

TEST_F(payments, a_credit_note_reduces_what_is_owed_and_bulk_mark_paid_pays_what_is_left) {
  const auto id = booked(customer("Cleo"), 800);
  const auto invoice =
      str(at(ok(admin->post("/v1/sessions/" + id + "/invoice"), 201).json(), {"invoice_id"}));
  ok(admin->post("/v1/invoices/" + invoice + "/credit-note",
                 R"({"reason":"goodwill","lines":[{"description":"Goodwill","quantity":1,)"
                 R"("unit_price_cents":300}]})"),
     201);
  auto owed = read(*admin, "/v1/sessions/" + id);
  EXPECT_EQ(num(at(owed, {"amount_due_cents"})), 500);  // it still owed 800
  EXPECT_EQ(num(at(owed, {"credited_cents"})), 300);
  auto inv = read(*admin, "/v1/invoices/" + invoice);
  EXPECT_EQ(num(at(inv, {"credited_cents"})), 300);
  EXPECT_EQ(num(at(inv, {"amount_due_cents"})), 500);
  auto bulk = ok(admin->post("/v1/sessions/bulk",
                             R"({"session_ids":[")" + id + R"("],"action":"mark_paid"})"));
  EXPECT_EQ(num(at(at(bulk.json(), {"results"}).as_array().at(0), {"status"})), 200) << bulk.body;
  auto paid = read(*admin, "/v1/sessions/" + id);
  EXPECT_EQ(num(at(paid, {"paid_cents"})), 500);  // it recorded 800
  EXPECT_EQ(str(at(paid, {"payment_status"})), "paid");
  EXPECT_EQ(str(at(read(*admin, "/v1/invoices/" + invoice), {"payment_status"})), "paid");
}

TEST_F(payments, a_fully_credited_invoice_reads_credited_and_is_not_listed_as_unpaid) {
  const auto id = booked(customer("Cleo"), 800);
  const auto invoice =
      str(at(ok(admin->post("/v1/sessions/" + id + "/invoice"), 201).json(), {"invoice_id"}));
  ok(admin->post("/v1/invoices/" + invoice + "/credit-note", R"({"reason":"cancelled by us"})"),
     201);
  auto inv = read(*admin, "/v1/invoices/" + invoice);
  EXPECT_EQ(str(at(inv, {"payment_status"})), "credited");  // it read unpaid
  EXPECT_EQ(num(at(inv, {"amount_due_cents"})), 0);
  auto s = read(*admin, "/v1/sessions/" + id);
  EXPECT_EQ(str(at(s, {"payment_status"})), "credited");
  EXPECT_EQ(num(at(s, {"amount_due_cents"})), 0);
  EXPECT_EQ(at(read(*admin, "/v1/sessions?payment_status=unpaid"), {"items"}).as_array().size(),
            0u);
  EXPECT_EQ(at(read(*admin, "/v1/sessions?payment_status=credited"), {"items"}).as_array().size(),
            1u);
}

TEST_F(payments, a_payment_beyond_what_is_left_is_refused_naming_what_is_left) {
  const auto c = customer("Cleo");
  auto issued = ok(admin->post("/v1/invoices", R"({"customer_id":")" + c +
                                                   R"(","lines":[{"description":"Workshop",)"
                                                   R"("quantity":1,"unit_price_cents":1000}]})"),
                   201);
  const auto invoice = str(at(issued.json(), {"invoice_id"}));
  ok(admin->post("/v1/invoices/" + invoice + "/payments",
                 R"({"amount_cents":600,"method":"cash"})"));
  auto over = admin->post("/v1/invoices/" + invoice + "/payments",
                          R"({"amount_cents":1000,"method":"cash"})");
  EXPECT_EQ(over.status, 409) << over.body;  // it took 2 000 for a 1 000 invoice
  EXPECT_EQ(over.code(), "overpayment");
  EXPECT_EQ(over.fields(), std::vector<std::string>{"amount_cents"});
  EXPECT_NE(over.body.find("400"), std::string::npos) << over.body;
  // After a full credit note nothing is left to pay; what was paid is due back.
  ok(admin->post("/v1/invoices/" + invoice + "/credit-note", R"({"reason":"cancelled"})"), 201);
  auto after =
      admin->post("/v1/invoices/" + invoice + "/payments", R"({"amount_cents":1,"method":"cash"})");
  EXPECT_EQ(after.code(), "overpayment") << after.body;
  auto inv = read(*admin, "/v1/invoices/" + invoice);
  EXPECT_EQ(num(at(inv, {"paid_cents"})), 600);
  EXPECT_EQ(num(at(inv, {"refund_due_cents"})), 600);
  // A session too: in advance up to its price.
  const auto id = booked(c, 1000);
  ok(admin->post("/v1/sessions/" + id + "/payments", R"({"amount_cents":1000,"method":"card"})"));
  EXPECT_EQ(admin->post("/v1/sessions/" + id + "/payments", R"({"amount_cents":1,"method":"card"})")
                .code(),
            "overpayment");
}

TEST_F(payments, attendance_dated_after_now_is_refused_and_the_appointment_is_charged) {
  const auto c = customer("Cleo");
  auto r = ok(admin->post("/v1/bookings", R"({"customer_id":")" + c +
                                              R"(","title":"Check-in","duration_minutes":10,)" +
                                              R"("scheduled_start":")" + now_plus(60) +
                                              R"(","host_id":"host-7","price_cents":1000})"),
              201);
  const auto id = str(at(r.json(), {"session_id"}));
  advance(120);
  auto future =
      admin->post("/v1/sessions/" + id + "/attendance",
                  R"({"party":"customer","action":"joined","at":"2030-01-01T00:00:00Z"})");
  EXPECT_EQ(future.status, 400) << future.body;  // it was 201
  EXPECT_EQ(future.fields(), std::vector<std::string>{"at"});
  advance(15 * 60);
  ASSERT_TRUE(eventually(
      [&] { return str(at(admin->get("/v1/sessions/" + id).json(), {"status"})) == "ended"; }));
  auto ended = admin->get("/v1/sessions/" + id).json();
  EXPECT_EQ(str(at(ended, {"outcome"})), "completed_assumed");  // it was a host no-show
  EXPECT_EQ(num(at(ended, {"amount_due_cents"})), 1000);
}

TEST_F(payments, the_invoice_list_filters_strictly_by_status_customer_session_kind_and_date) {
  const auto cleo = customer("Cleo"), dan = customer("Dan");
  const auto id = booked(cleo, 800);
  const auto of_session =
      str(at(ok(admin->post("/v1/sessions/" + id + "/invoice"), 201).json(), {"invoice_id"}));
  advance(60);
  const auto from = now_plus(0);
  const auto standalone = str(
      at(ok(admin->post("/v1/invoices", R"({"customer_id":")" + dan +
                                            R"(","lines":[{"description":"Workshop","quantity":1,)"
                                            R"("unit_price_cents":1000}]})"),
            201)
             .json(),
         {"invoice_id"}));
  ok(admin->post("/v1/invoices/" + standalone + "/payments",
                 R"({"amount_cents":1000,"method":"cash"})"));
  auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    const auto items = at(read(*admin, "/v1/invoices?" + query), {"items"});
    for (const auto& i : items.as_array()) out.push_back(str(at(i, {"invoice_id"})));
    return out;
  };
  using v = std::vector<std::string>;
  EXPECT_EQ(ids("payment_status=paid"), v{standalone});
  EXPECT_EQ(ids("payment_status=unpaid"), v{of_session});
  EXPECT_EQ(ids("customer_id=" + cleo), v{of_session});
  EXPECT_EQ(ids("session_id=" + id), v{of_session});
  EXPECT_EQ(ids("standalone=true"), v{standalone});
  EXPECT_EQ(ids("standalone=false"), v{of_session});
  EXPECT_EQ(ids("from=" + from), v{standalone});
  EXPECT_EQ(ids("to=" + from), v{of_session});
  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"payment_status=owed", "payment_status"},
                                                        {"standalone=maybe", "standalone"},
                                                        {"from=yesterday", "from"},
                                                        {"number=1", "number"}}) {
    auto r = admin->get("/v1/invoices?" + query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(r.fields(), std::vector<std::string>{field}) << query;
  }
}

TEST_F(payments, staff_record_a_payment_with_the_booking) {
  const auto c = customer("Cleo");
  auto r = ok(admin->post("/v1/bookings", R"({"customer_id":")" + c +
                                              R"(","title":"Lesson","duration_minutes":60,)" +
                                              R"("scheduled_start":")" + now_plus(3600) +
                                              R"(","host_id":"host-7","price_cents":1200,)" +
                                              R"("payment":{"amount_cents":500,"method":"card"}})"),
              201);
  const auto id = str(at(r.json(), {"session_id"}));
  auto s = read(*admin, "/v1/sessions/" + id);
  EXPECT_EQ(num(at(s, {"paid_cents"})), 500);
  EXPECT_EQ(str(at(s, {"payment_status"})), "partially_paid");
  auto over = admin->post("/v1/bookings", R"({"customer_id":")" + c +
                                              R"(","title":"Lesson","duration_minutes":60,)" +
                                              R"("price_cents":100,)" +
                                              R"("payment":{"amount_cents":500,"method":"card"}})");
  EXPECT_EQ(over.status, 409) << over.body;
  EXPECT_EQ(over.code(), "overpayment");
  EXPECT_EQ(over.fields(), std::vector<std::string>{"payment.amount_cents"});
}

}  // namespace
