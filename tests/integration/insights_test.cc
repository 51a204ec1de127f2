// Issue #9 against the real server (both logs): customer and inventory
// search, and the business's numbers — the analytics summary, a customer's
// figures and picking times — checked figure by figure against a scripted
// history in a non-UTC zone that crosses a local midnight.

#include "support/tally_process.h"

#include "base/zone.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

using namespace tally::testing;

namespace {

struct insights : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;
  std::string last;

  void SetUp() override {
    server = std::make_unique<tally_server>(dir.str());
    admin = server->client("admin");
  }
  response ok(response r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    if (!r.header("tally-position").empty()) last = r.header("tally-position");
    return r;
  }
  boost::json::value get(const std::string& path) {
    auto r = admin->get(path, {"Tally-Min-Position: " + last});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.json();
  }
  std::string customer(const std::string& name, const std::string& email,
                       const std::string& phone) {
    return str(at(ok(admin->post("/v1/customers", R"({"name":")" + name + R"(","email":")" + email +
                                                      R"(","phone":")" + phone + R"("})"),
                     201)
                      .json(),
                  {"customer_id"}));
  }
  tally::timestamp now() {
    return *tally::parse_rfc3339(str(at(admin->get("/v1/admin/clock").json(), {"now"})));
  }
  void advance(std::int64_t seconds) {
    ok(admin->post("/v1/admin/clock", "{\"advance_seconds\":" + std::to_string(seconds) + "}"));
  }
  std::string start(const std::string& kind, const std::string& who,
                    const std::string& extra = "") {
    return str(at(ok(admin->post("/v1/sessions", R"({"kind":")" + kind + R"(","customer_id":")" +
                                                     who + "\"" + extra + "}"),
                     201)
                      .json(),
                  {"session_id"}));
  }
  std::string add_tea(const std::string& s, int quantity) {
    return str(
        at(ok(admin->post("/v1/sessions/" + s + "/items",
                          R"({"item_id":"tea","quantity":)" + std::to_string(quantity) + "}"),
              201)
               .json(),
           {"line_id"}));
  }
  // The names of the customers a search answers, following every page.
  std::vector<std::string> names(const std::string& query, int limit = 50) {
    std::vector<std::string> out;
    std::string cursor;
    for (int pages = 0; pages < 20; ++pages) {
      auto page = get("/v1/customers?limit=" + std::to_string(limit) + query +
                      (cursor.empty() ? "" : "&cursor=" + cursor));
      const auto list = at(page, {"items"});
      for (const auto& c : list.as_array()) out.push_back(str(at(c, {"name"})));
      if (at(page, {"next_cursor"}).is_null()) break;
      cursor = str(at(page, {"next_cursor"}));
    }
    return out;
  }
  std::vector<std::string> items(const std::string& query) {
    std::vector<std::string> out;
    const auto list = at(get("/v1/inventory?" + query), {"items"});
    for (const auto& i : list.as_array()) out.push_back(str(at(i, {"item_id"})));
    return out;
  }
};

using names_t = std::vector<std::string>;

TEST_F(insights, customer_search_by_text_state_figures_and_registration) {
  // A second apart, so that "newest first" has one answer.
  const auto ann = customer("Ann Archer", "ann@example.com", "+1 555-0101");
  advance(1);
  const auto ben = customer("Ben Brook", "ben@example.org", "+1 555-0102");
  advance(1);
  const auto cat = customer("Cat Cole", "cat@example.com", "+44 20 7946 0000");
  advance(1);
  const auto dan = customer("Dan Dale", "dan@example.com", "+1 555-0199");
  ok(admin->post("/v1/resources", R"({"name":"PC 1","hourly_rate_cents":600})"), 201);
  ok(admin->del("/v1/customers/" + dan));
  const auto registered_cat =
      *tally::parse_rfc3339(str(at(get("/v1/customers/" + cat), {"registered_at"})));
  // Ann: two sessions, one running and paid for; Cat: one, ended and paid.
  ok(admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})"));
  ok(admin->post("/v1/inventory/tea/receipts", R"({"quantity":10})"));
  const auto a1 = start("shopping", ann);
  add_tea(a1, 1);
  ok(admin->post("/v1/sessions/" + a1 + "/end", ""));
  ok(admin->post("/v1/sessions/" + a1 + "/payments", R"({"amount_cents":300,"method":"cash"})"));
  start("shopping", ann);
  const auto c1 = start("shopping", cat);
  add_tea(c1, 2);
  ok(admin->post("/v1/sessions/" + c1 + "/end", ""));
  ok(admin->post("/v1/sessions/" + c1 + "/payments", R"({"amount_cents":600,"method":"card"})"));

  // Text: a substring of name, e-mail or phone, any case; newest first.
  EXPECT_EQ(names("&q=ann"), names_t{"Ann Archer"});
  EXPECT_EQ(names("&q=EXAMPLE.COM"), (names_t{"Dan Dale", "Cat Cole", "Ann Archer"}));
  EXPECT_EQ(names("&q=555-01"), (names_t{"Dan Dale", "Ben Brook", "Ann Archer"}));
  EXPECT_EQ(names("&q=7946"), names_t{"Cat Cole"});
  EXPECT_EQ(names("&q=an"), (names_t{"Dan Dale", "Ann Archer"}));  // shorter than a trigram
  EXPECT_EQ(names("&q=nobody"), names_t{});
  // State and figures.
  EXPECT_EQ(names("&active=false"), names_t{"Dan Dale"});
  EXPECT_EQ(names("&active=true&q=example"), (names_t{"Cat Cole", "Ben Brook", "Ann Archer"}));
  EXPECT_EQ(names("&has_active_session=true"), names_t{"Ann Archer"});
  EXPECT_EQ(names("&has_active_session=false"), (names_t{"Dan Dale", "Cat Cole", "Ben Brook"}));
  EXPECT_EQ(names("&min_sessions=2"), names_t{"Ann Archer"});
  EXPECT_EQ(names("&min_sessions=1&max_sessions=1"), names_t{"Cat Cole"});
  EXPECT_EQ(names("&max_sessions=0"), (names_t{"Dan Dale", "Ben Brook"}));
  EXPECT_EQ(names("&min_paid_cents=300&max_paid_cents=300"), names_t{"Ann Archer"});
  EXPECT_EQ(names("&min_paid_cents=301"), names_t{"Cat Cole"});
  // Registration: half-open.
  const auto at_cat = tally::format_rfc3339(registered_cat);
  EXPECT_EQ(names("&registered_from=" + at_cat), (names_t{"Dan Dale", "Cat Cole"}));
  EXPECT_EQ(names("&registered_to=" + at_cat), (names_t{"Ben Brook", "Ann Archer"}));
  EXPECT_EQ(names("&registered_from=" + at_cat + "&registered_to=" + at_cat), names_t{});
  // Keyset paging over a search, one at a time, gives the same list.
  EXPECT_EQ(names("&q=example", 1), (names_t{"Dan Dale", "Cat Cole", "Ben Brook", "Ann Archer"}));
  // Bad parameters are named; nothing is answered.
  for (const auto* bad : {"active=maybe", "has_active_session=1", "min_sessions=two",
                          "max_paid_cents=1.5", "registered_from=yesterday"}) {
    auto r = admin->get(std::string("/v1/customers?") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find(std::string(bad).substr(0, std::string(bad).find('='))),
              std::string::npos)
        << r.body;
  }
  (void)ben;
}

TEST_F(insights, customers_have_given_and_family_names_and_an_address_to_filter_by) {
  ok(admin->post("/v1/customers",
                 R"({"given_name":"Hana","family_name":"Sato",)"
                 R"("address":{"line1":"1-1 Marunouchi","city":"Tokyo","country":"JP"}})"),
     201);
  advance(1);
  const auto lena =
      str(at(ok(admin->post("/v1/customers", R"({"name":"Lena M.","given_name":"Lena",)"
                                             R"("address":{"city":"Berlin","country":"DE"}})"),
                201)
                 .json(),
             {"customer_id"}));
  advance(1);
  customer("Old Style", "old@example.com", "+1 555-0000");  // no names, no address

  const auto hana = at(get("/v1/customers?city=tokyo"), {"items"}).as_array().at(0);
  EXPECT_EQ(str(at(hana, {"name"})), "Hana Sato");  // made from the two names
  EXPECT_EQ(str(at(hana, {"family_name"})), "Sato");
  EXPECT_EQ(str(at(hana, {"address", "line1"})), "1-1 Marunouchi");
  EXPECT_EQ(names("&country=DE"), names_t{"Lena M."});
  EXPECT_EQ(names("&city=BERLIN&country=DE"), names_t{"Lena M."});
  EXPECT_EQ(names("&city=Berlin&country=JP"), names_t{});
  EXPECT_EQ(names("&q=sato"), names_t{"Hana Sato"});  // the family name
  EXPECT_EQ(names("&q=berl"), names_t{"Lena M."});    // the city
  EXPECT_EQ(names("&q=lena"), names_t{"Lena M."});

  // An address replaces the whole address; the list follows it.
  ok(admin->put("/v1/customers/" + lena, R"({"address":{"city":"Paris","country":"FR"}})"));
  EXPECT_EQ(names("&country=DE"), names_t{});
  EXPECT_EQ(names("&city=paris"), names_t{"Lena M."});
  EXPECT_EQ(str(at(get("/v1/customers/" + lena), {"given_name"})), "Lena");

  // A country that is not an ISO 3166-1 alpha-2 code is named, in a body
  // and in a query, and changes nothing.
  auto r = admin->post("/v1/customers", R"({"name":"X","address":{"country":"Germany"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("address.country"), std::string::npos) << r.body;
  r = admin->put("/v1/customers/" + lena, R"({"address":{"country":"fr"}})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = admin->get("/v1/customers?country=de");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("country"), std::string::npos) << r.body;
  r = admin->post("/v1/customers", R"({"email":"nobody@example.com"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("name"), std::string::npos) << r.body;
  EXPECT_EQ(names("&city=paris"), names_t{"Lena M."});
  EXPECT_EQ(names(""), (names_t{"Old Style", "Lena M.", "Hana Sato"}));
}

// Retention: of the customers with a session in the period of equal length
// just before the range, those with one in the range too.
TEST_F(insights, retention_counts_the_previous_periods_customers_who_came_back) {
  using namespace std::chrono;
  {  // Start a UTC day at 09:00, so that an hour's work stays on it.
    const auto t = now();
    const auto into_day = duration_cast<seconds>(t - floor<days>(t)).count();
    advance((9 * 3600 - into_day + 86400) % 86400 + 1);
  }
  const auto day = floor<days>(now());
  const auto D = tally::format_day(day), D1 = tally::format_day(day + days(1)),
             D2 = tally::format_day(day + days(2)), D3 = tally::format_day(day + days(3));
  const auto ann = customer("Ann", "ann@example.com", "1");
  const auto ben = customer("Ben", "ben@example.com", "2");
  const auto cat = customer("Cat", "cat@example.com", "3");
  const auto dan = customer("Dan", "dan@example.com", "4");
  ok(admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})"));
  ok(admin->post("/v1/inventory/tea/receipts", R"({"quantity":10})"));
  auto visit = [&](const std::string& who) {
    const auto s = start("shopping", who);
    add_tea(s, 1);
    ok(admin->post("/v1/sessions/" + s + "/end", ""));
  };
  // Day D: Ann, Ben, Cat (Ann twice). Day D+1: Ann, Cat and Dan.
  visit(ann), visit(ann), visit(ben), visit(cat);
  advance(86400);
  visit(ann), visit(cat), visit(dan);

  auto retention = [&](const std::string& query) {
    return at(get("/v1/analytics/summary?" + query), {"retention"});
  };
  auto r = retention("from=" + D1 + "&to=" + D2);
  EXPECT_EQ(str(at(r, {"previous_from"})), D + "T00:00:00.000Z");
  EXPECT_EQ(str(at(r, {"previous_to"})), D1 + "T00:00:00.000Z");
  EXPECT_EQ(num(at(r, {"previous_customers"})), 3);
  EXPECT_EQ(num(at(r, {"returned_customers"})), 2);  // Ann and Cat; Ben did not
  EXPECT_EQ(num(at(r, {"basis_points"})), 6666);     // 2 of 3, rounded down
  // Two days against the two before them: nobody before, no share.
  r = retention("from=" + D + "&to=" + D2);
  EXPECT_EQ(num(at(r, {"previous_customers"})), 0);
  EXPECT_TRUE(at(r, {"basis_points"}).is_null());
  // The day after: of D+1's three, nobody came back.
  r = retention("from=" + D2 + "&to=" + D3);
  EXPECT_EQ(num(at(r, {"previous_customers"})), 3);
  EXPECT_EQ(num(at(r, {"returned_customers"})), 0);
  EXPECT_EQ(num(at(r, {"basis_points"})), 0);
  // Without a start there is no period before it.
  r = retention("to=" + D2);
  EXPECT_TRUE(at(r, {"previous_from"}).is_null());
  EXPECT_TRUE(at(r, {"basis_points"}).is_null());
}

TEST_F(insights, inventory_search_by_name_id_location_and_availability) {
  ok(admin->put("/v1/inventory/tea",
                R"({"name":"Black Tea","unit_price_cents":300,"location":"Shelf A1"})"));
  ok(admin->put("/v1/inventory/green-tea",
                R"({"name":"Sencha","unit_price_cents":500,"location":"shelf a1"})"));
  ok(admin->put("/v1/inventory/mug", R"({"name":"Mug","unit_price_cents":900,"location":"B3"})"));
  ok(admin->post("/v1/inventory/tea/receipts", R"({"quantity":2})"));
  ok(admin->post("/v1/inventory/mug/receipts", R"({"quantity":1})"));
  EXPECT_EQ(items("q=tea"), (names_t{"green-tea", "tea"}));  // by name or by id
  EXPECT_EQ(items("q=SENCHA"), names_t{"green-tea"});
  EXPECT_EQ(items("q=mu"), names_t{"mug"});
  EXPECT_EQ(items("location=Shelf%20A1"), (names_t{"green-tea", "tea"}));
  EXPECT_EQ(items("available=true"), (names_t{"mug", "tea"}));
  EXPECT_EQ(items("q=tea&available=true"), names_t{"tea"});
  EXPECT_EQ(items("location=B3&q=tea"), names_t{});
  // A reservation takes the last mug: no longer available.
  const auto ann = customer("Ann", "a@x.io", "1");
  const auto s = start("shopping", ann);
  ok(admin->post("/v1/sessions/" + s + "/items", R"({"item_id":"mug","quantity":1})"), 201);
  EXPECT_EQ(items("available=true"), names_t{"tea"});
  // A renamed item is found by its new name only.
  ok(admin->put("/v1/inventory/mug", R"({"name":"Cup","unit_price_cents":900,"location":"B3"})"));
  EXPECT_EQ(items("q=mug"), names_t{"mug"});  // still by its id
  EXPECT_EQ(items("q=cup"), names_t{"mug"});
  ok(admin->put("/v1/inventory/tea", R"({"name":"Black","unit_price_cents":300,"location":"C9"})"));
  EXPECT_EQ(items("q=tea"), (names_t{"green-tea", "tea"}));
  EXPECT_EQ(items("location=shelf%20a1"), names_t{"green-tea"});
  EXPECT_EQ(admin->get("/v1/inventory?available=yes").status, 400);
}

// The scripted history, in Asia/Kolkata (UTC+05:30), from 21:00 on local day
// D to 00:35 on D+1 — both of which are the same UTC day.
TEST_F(insights, analytics_customer_figures_and_picking_follow_a_scripted_history) {
  using namespace std::chrono;
  ok(admin->put("/v1/settings", R"({"timezone":"Asia/Kolkata","shopping_timeout_minutes":0})"));
  const auto kolkata = *tally::zone::find("Asia/Kolkata");
  {
    const auto t = now();
    const auto local_seconds =
        (duration_cast<seconds>(t - kolkata.start_of(kolkata.day_of(t)))).count();
    advance((21 * 3600 - local_seconds + 86400) % 86400 + 1);
  }
  const auto day = kolkata.day_of(now());
  const auto D = tally::format_day(day), D1 = tally::format_day(day + days(1)),
             D_1 = tally::format_day(day - days(1)), D2 = tally::format_day(day + days(2));

  const auto ann = customer("Ann", "ann@example.com", "1");
  const auto ben = customer("Ben", "ben@example.com", "2");
  const auto cat = customer("Cat", "cat@example.com", "3");
  const auto dan = customer("Dan", "dan@example.com", "4");
  ok(admin->del("/v1/customers/" + dan));
  const auto pc = str(
      at(ok(admin->post("/v1/resources", R"({"name":"PC","hourly_rate_cents":600})"), 201).json(),
         {"resource_id"}));
  ok(admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})"));
  ok(admin->post("/v1/inventory/tea/receipts", R"({"quantity":100})"));

  // D 21:00 metered for Ann, 30 minutes, paid.
  const auto s1 = start("metered", ann, R"(,"resource_id":")" + pc + "\"");
  advance(1800);
  auto end1 = ok(admin->post("/v1/sessions/" + s1 + "/end", ""));
  const auto c1 = num(at(at(end1.json(), {"charges"}).as_array().at(0), {"amount_cents"}));
  ok(admin->post("/v1/sessions/" + s1 + "/payments",
                 "{\"amount_cents\":" + std::to_string(c1) + ",\"method\":\"cash\"}"));
  // D 21:30 shopping for Ben, two teas; an appointment for Cat at 22:30.
  const auto s2 = start("shopping", ben);
  const auto l2 = add_tea(s2, 2);
  const auto a1 =
      str(at(ok(admin->post("/v1/bookings", R"({"customer_id":")" + cat +
                                                R"(","title":"Fitting","duration_minutes":60})"),
                201)
                 .json(),
             {"session_id"}));
  ok(admin->post("/v1/sessions/" + a1 + "/book",
                 R"({"scheduled_start":")" + tally::format_rfc3339(now() + seconds(3600)) +
                     R"(","price_cents":1000,"host_id":"host-1"})"));
  // D 22:50 Cat did not come: a 500 fee, paid, 200 of it refunded.
  advance(4800);
  ok(admin->post("/v1/sessions/" + a1 + "/no-show", R"({"party":"customer"})"));
  ok(admin->post("/v1/sessions/" + a1 + "/payments", R"({"amount_cents":500,"method":"card"})"));
  ok(admin->post("/v1/sessions/" + a1 + "/refunds", R"({"amount_cents":200,"reason":"goodwill"})"));
  // D+1 00:10: Ben's teas picked and his session ended (unpaid); Ann picks
  // short and cancels; Cat's shopping times out; Ann starts another one.
  advance(4800);
  ok(admin->post("/v1/sessions/" + s2 + "/items/" + l2 + "/pick", "{}"));
  ok(admin->post("/v1/sessions/" + s2 + "/end", ""));
  const auto s3 = start("shopping", ann);
  const auto l3 = add_tea(s3, 2);
  ok(admin->post("/v1/sessions/" + s3 + "/items/" + l3 + "/pick", R"({"quantity":1})"));
  ok(admin->post("/v1/sessions/" + s3 + "/cancel", "{}"));
  ok(admin->put("/v1/settings", R"({"shopping_timeout_minutes":20})"));
  const auto s4 = start("shopping", cat);
  add_tea(s4, 1);
  advance(25 * 60);
  std::string status;
  for (int i = 0; i < 200 && status != "ended"; ++i) {
    status = str(at(admin->get("/v1/sessions/" + s4).json(), {"status"}));
    if (status != "ended") std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(status, "ended");
  const auto s5 = start("metered", ann, R"(,"resource_id":")" + pc + "\"");
  (void)s5;

  // The summary over D-1 .. D+1 (dates: `to` is exclusive).
  auto sum = get("/v1/analytics/summary?from=" + D_1 + "&to=" + D2);
  EXPECT_EQ(str(at(sum, {"timezone"})), "Asia/Kolkata");
  EXPECT_EQ(num(at(sum, {"charged_cents"})), c1 + 500 + 600);
  EXPECT_EQ(num(at(sum, {"paid_cents"})), c1 + 300);
  EXPECT_EQ(num(at(sum, {"outstanding_cents"})), 800);
  EXPECT_EQ(num(at(sum, {"sessions_ended"})), 5);
  EXPECT_NE(
      admin->get("/v1/analytics/summary?from=" + D_1 + "&to=" + D2, {"Tally-Min-Position: " + last})
          .body.find(
              R"("completion_rate":{"metered":1.0000,"shopping":0.3333,"appointment":0.0000})"),
      std::string::npos);
  EXPECT_DOUBLE_EQ(at(sum, {"no_show_rate"}).to_number<double>(), 1.0);
  EXPECT_DOUBLE_EQ(at(sum, {"payment_success_rate"}).to_number<double>(), 0.3333);
  const auto days_ = at(sum, {"revenue_by_day"}).as_array();
  ASSERT_EQ(days_.size(), 3u);
  EXPECT_EQ(str(at(days_[0], {"day"})), D_1);
  EXPECT_EQ(num(at(days_[0], {"charged_cents"})), 0);
  EXPECT_EQ(num(at(days_[0], {"sessions"})), 0);
  EXPECT_EQ(str(at(days_[1], {"day"})), D);
  EXPECT_EQ(num(at(days_[1], {"charged_cents"})), c1 + 500);
  EXPECT_EQ(num(at(days_[1], {"paid_cents"})), c1 + 300);
  EXPECT_EQ(num(at(days_[1], {"sessions"})), 2);
  EXPECT_EQ(str(at(days_[2], {"day"})), D1);
  EXPECT_EQ(num(at(days_[2], {"charged_cents"})), 600);
  EXPECT_EQ(num(at(days_[2], {"paid_cents"})), 0);
  EXPECT_EQ(num(at(days_[2], {"sessions"})), 3);
  const auto customers = at(sum, {"customers"});
  EXPECT_EQ(num(at(customers, {"total"})), 4);
  EXPECT_EQ(num(at(customers, {"active"})), 3);
  EXPECT_EQ(num(at(customers, {"with_active_session"})), 1);
  EXPECT_EQ(num(at(customers, {"new_in_range"})), 4);
  EXPECT_EQ(num(at(customers, {"repeat"})), 2);  // Ann (3) and Cat (2); Ben has one
  EXPECT_EQ(num(at(customers, {"average_revenue_cents"})), (c1 + 300) / 3);
  // One local day: D alone, although D+1's morning is the same UTC day.
  auto d_only = get("/v1/analytics/summary?from=" + D + "&to=" + D1);
  EXPECT_EQ(num(at(d_only, {"charged_cents"})), c1 + 500);
  EXPECT_EQ(num(at(d_only, {"sessions_ended"})), 2);
  EXPECT_EQ(at(d_only, {"revenue_by_day"}).as_array().size(), 1u);
  EXPECT_EQ(boost::json::serialize(at(d_only, {"completion_rate", "shopping"})), "null");
  EXPECT_EQ(num(at(d_only, {"customers", "new_in_range"})), 4);
  EXPECT_EQ(
      num(at(get("/v1/analytics/summary?from=" + D1 + "&to=" + D2), {"customers", "new_in_range"})),
      0);

  // A customer's figures.
  auto cat_stats = get("/v1/customers/" + cat + "/stats");
  EXPECT_EQ(num(at(cat_stats, {"sessions", "total"})), 2);
  EXPECT_EQ(num(at(cat_stats, {"sessions", "by_status", "ended"})), 2);
  EXPECT_EQ(num(at(cat_stats, {"sessions", "by_outcome", "no_show"})), 1);
  EXPECT_EQ(num(at(cat_stats, {"sessions", "by_outcome", "timed_out"})), 1);
  EXPECT_EQ(num(at(cat_stats, {"charged_cents"})), 500);
  EXPECT_EQ(num(at(cat_stats, {"paid_cents"})), 500);
  EXPECT_EQ(num(at(cat_stats, {"refunded_cents"})), 200);
  EXPECT_EQ(num(at(cat_stats, {"outstanding_cents"})), 200);
  EXPECT_EQ(num(at(cat_stats, {"no_shows"})), 1);
  EXPECT_EQ(num(at(cat_stats, {"lifetime_value_cents"})), 300);
  EXPECT_EQ(at(cat_stats, {"first_session_at"}), at(cat_stats, {"last_session_at"}));
  auto ann_stats = get("/v1/customers/" + ann + "/stats");
  EXPECT_EQ(num(at(ann_stats, {"sessions", "total"})), 3);
  EXPECT_EQ(num(at(ann_stats, {"sessions", "by_status", "active"})), 1);
  EXPECT_EQ(num(at(ann_stats, {"sessions", "by_outcome", "completed"})), 1);
  EXPECT_EQ(num(at(ann_stats, {"sessions", "by_outcome", "cancelled"})), 1);
  EXPECT_EQ(num(at(ann_stats, {"outstanding_cents"})), 0);
  EXPECT_EQ(num(at(ann_stats, {"no_shows"})), 0);
  EXPECT_EQ(num(at(ann_stats, {"lifetime_value_cents"})), c1);
  EXPECT_LT(str(at(ann_stats, {"first_session_at"})), str(at(ann_stats, {"last_session_at"})));
  auto ben_stats = get("/v1/customers/" + ben + "/stats");
  EXPECT_EQ(num(at(ben_stats, {"outstanding_cents"})), 600);
  EXPECT_EQ(admin->get("/v1/customers/nobody/stats").status, 404);

  // Picking: Ben's line, 2 h 40 min after it was added; Ann's short pick.
  auto picking = get("/v1/analytics/picking?from=" + D_1 + "&to=" + D2);
  EXPECT_EQ(num(at(picking, {"count"})), 1);
  EXPECT_GE(num(at(picking, {"max_seconds"})), 9600);
  EXPECT_LT(num(at(picking, {"max_seconds"})), 9660);
  EXPECT_EQ(at(picking, {"p50_seconds"}), at(picking, {"max_seconds"}));
  EXPECT_EQ(at(picking, {"p90_seconds"}), at(picking, {"max_seconds"}));
  EXPECT_EQ(num(at(picking, {"short_picks"})), 1);
  const auto pdays = at(picking, {"days"}).as_array();
  ASSERT_EQ(pdays.size(), 3u);
  EXPECT_EQ(num(at(pdays[1], {"count"})), 0);
  EXPECT_TRUE(at(pdays[1], {"p50_seconds"}).is_null());
  EXPECT_EQ(str(at(pdays[2], {"day"})), D1);
  EXPECT_EQ(num(at(pdays[2], {"count"})), 1);
  EXPECT_EQ(num(at(pdays[2], {"short_picks"})), 1);

  // Bad ranges are named.
  EXPECT_EQ(admin->get("/v1/analytics/summary?from=someday").status, 400);
  EXPECT_EQ(admin->get("/v1/analytics/picking?from=" + D1 + "&to=" + D).status, 400);

  // All of it is derived from the log: a restart (embedded: a rebuild) answers the same.
  const auto before = get("/v1/analytics/summary?from=" + D_1 + "&to=" + D2);
  server->stop();
  server = std::make_unique<tally_server>(dir.str());
  admin = server->client("admin");
  auto again = get("/v1/analytics/summary?from=" + D_1 + "&to=" + D2);
  again.as_object().erase("to");
  auto expected = before;
  expected.as_object().erase("to");
  EXPECT_EQ(again, expected);
}

}  // namespace
