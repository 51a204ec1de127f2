// API.md's role table, tried in full: every documented operation with each
// role (the allowed roles are read from the operation's description in
// docs/openapi.json, which the router test keeps in step), and every
// WebSocket channel with each role.

#include "support/tally_process.h"
#include "support/ws_client.h"

#include <gtest/gtest.h>

#include <set>

using namespace tally::testing;

namespace {

const std::vector<std::string> roles{"admin", "host", "warehouse", "auditor", "customer", "public"};

std::set<std::string> allowed_roles(const std::string& description) {
  std::set<std::string> out;
  const std::string prefix = "Roles: ";
  if (description.rfind(prefix, 0) != 0) return out;
  std::string list = description.substr(prefix.size());
  list = list.substr(0, list.find('.'));
  std::size_t pos = 0;
  while (pos < list.size()) {
    auto comma = list.find(',', pos);
    std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item = item.substr(0, item.find(' '));  // "customer (own)" → "customer"
    out.insert(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

TEST(roles, every_operation_with_every_role) {
  temp_dir dir;
  tally_server server(dir.str());
  auto admin = server.client("admin");
  const auto doc = admin->get("/v1/openapi.json").json();
  int checked = 0;
  const auto paths = at(doc, {"paths"});
  for (const auto& [path, ops] : paths.as_object()) {
    std::string concrete(path);
    for (auto open = concrete.find('{'); open != std::string::npos; open = concrete.find('{'))
      concrete.replace(open, concrete.find('}', open) - open + 1, "x1");
    for (const auto& [method, op] : ops.as_object()) {
      const auto allowed = allowed_roles(str(at(op, {"description"})));
      if (allowed.empty()) continue;  // no token needed
      std::string m(method);
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      for (const auto& role : roles) {
        http_client c(server.base_url());
        c.token = server.token(role, "acme", role == "customer" ? "some-customer" : "");
        auto r = c.request(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}");
        if (allowed.contains(role)) {
          EXPECT_NE(r.status, 403) << role << " " << m << " " << path << ": " << r.body;
          EXPECT_NE(r.status, 401) << role << " " << m << " " << path;
        } else {
          EXPECT_EQ(r.status, 403) << role << " " << m << " " << path << ": " << r.body;
          EXPECT_EQ(r.code(), "forbidden");
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 200);
}

TEST(roles, every_channel_with_every_role) {
  temp_dir dir;
  tally_server server(dir.str());
  const std::map<std::string, std::set<std::string>> allowed{
      {"sessions", {"admin", "host", "auditor"}},
      {"session:x1", {"admin", "host", "auditor"}},
      {"picklist", {"admin", "host", "warehouse"}},
      {"inventory", {"admin", "host", "warehouse"}},
  };
  for (const auto& role : roles) {
    ws_client c(server.base_url(), "/v1/stream?access_token=" + server.token(role));
    ASSERT_TRUE(c.connected()) << role;
    for (const auto& [channel, who] : allowed) {
      c.send(R"({"op":"subscribe","channels":[")" + channel + R"("]})");
      auto m = c.read();
      ASSERT_TRUE(m) << role << " " << channel;
      const auto op = str(at(m->json(), {"op"}));
      if (who.contains(role)) {
        EXPECT_EQ(op, "subscribed") << role << " " << channel << ": " << m->text;
      } else {
        EXPECT_EQ(op, "error") << role << " " << channel << ": " << m->text;
      }
    }
  }
}

}  // namespace

namespace {

// Every documented operation that names an aggregate, tried by another
// tenant's admin with this tenant's real ids: indistinguishable from missing.
TEST(roles, another_tenants_ids_are_not_found_on_every_path) {
  temp_dir dir;
  tally_server server(dir.str());
  auto acme = server.client("admin", "acme");
  const auto customer =
      str(at(acme->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
  const auto resource =
      str(at(acme->post("/v1/resources", R"({"name":"PC","hourly_rate_cents":100})").json(),
             {"resource_id"}));
  acme->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":300})");
  acme->post("/v1/inventory/tea/receipts", R"({"quantity":10})");
  const auto session = str(
      at(acme->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
             .json(),
         {"session_id"}));
  const auto line = str(at(
      acme->post("/v1/sessions/" + session + "/items", R"({"item_id":"tea","quantity":1})").json(),
      {"line_id"}));
  const auto invoice =
      str(at(acme->post("/v1/invoices",
                        R"({"customer_id":")" + customer +
                            R"(","lines":[{"description":"x","quantity":1,"unit_price_cents":1}]})")
                 .json(),
             {"invoice_id"}));
  // Reads are eventually consistent: wait until acme's own reads see it.
  ASSERT_TRUE(eventually([&] { return acme->get("/v1/sessions/" + session).status == 200; }));
  auto globex = server.client("admin", "globex");
  const auto doc = globex->get("/v1/openapi.json").json();
  const auto paths = at(doc, {"paths"});
  int checked = 0;
  for (const auto& [path_view, ops] : paths.as_object()) {
    std::string path(path_view);
    if (path.find('{') == std::string::npos) continue;
    std::string concrete = path;
    auto fill = [&](const std::string& param, const std::string& value) {
      auto at_param = concrete.find(param);
      if (at_param != std::string::npos) concrete.replace(at_param, param.size(), value);
    };
    if (path.starts_with("/v1/customers/")) fill("{id}", customer);
    if (path.starts_with("/v1/resources/")) fill("{id}", resource);
    if (path.starts_with("/v1/sessions/")) fill("{id}", session);
    if (path.starts_with("/v1/invoices/")) fill("{id}", invoice);
    fill("{item_id}", "tea");
    fill("{line_id}", line);
    for (const auto& [method, op] : ops.as_object()) {
      std::string m(method);
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      if (m == "PUT" && path == "/v1/inventory/{item_id}")
        continue;  // ids chosen by the client: creates its own
      // An operation an admin may not do (a customer's feedback) is tried by
      // another tenant's caller of a role that may.
      const auto may = allowed_roles(str(at(op, {"description"})));
      http_client other(server.base_url());
      other.token = may.empty() || may.contains("admin")
                        ? globex->token
                        : server.token(*may.begin(), "globex", "someone");
      auto r = other.request(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}");
      // A body check may answer first (400); what must never happen is an answer about acme's data.
      EXPECT_TRUE(r.status == 404 || r.status == 400)
          << m << " " << concrete << ": " << r.status << " " << r.body;
      if (r.status == 400) {
        // Then the same with a valid body must be 404.
        EXPECT_NE(r.code(), "") << r.body;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 25);
  // And the data is untouched.
  auto r = acme->get("/v1/sessions/" + session);
  EXPECT_EQ(str(at(r.json(), {"status"})), "active") << r.status << " " << r.body;
}

}  // namespace
