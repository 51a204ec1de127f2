// Issue #11: the tenant's hash chain against the real server. Online
// (GET /v1/audit/verify), offline (tally verify --data, --file) and by the
// script docs/audit.md gives auditors; tampering with the stored log (a
// flipped byte, a deleted, a reordered, an inserted event) is found at its
// position every way.

#include "domain/chain.h"
#include "domain/event_codec.h"
#include "support/raw_log.h"
#include "support/tally_process.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace tally::testing;
namespace fs = std::filesystem;

namespace {

const std::string source_dir = TALLY_SOURCE_DIR;

// Some history for two tenants, acme's first; returns acme's last position
// (globex's events follow it: a read at it has all of acme's).
std::string make_history(tally_server& server) {
  std::string last;
  for (const char* tenant : {"acme", "globex"}) {
    auto admin = server.client("admin", tenant);
    for (int i = 0; i < 4; ++i)
      admin->post("/v1/customers", R"({"name":"Ann )" + std::to_string(i) + R"("})");
    admin->put("/v1/inventory/tea", R"({"name":"Tea","unit_price_cents":250,"location":"B2"})");
    auto received = admin->post("/v1/inventory/tea/receipts", R"({"quantity":5})");
    if (std::string(tenant) == "acme") last = received.header("tally-position");
  }
  return last;
}

std::string export_events(tally_server& server, const std::string& last, const std::string& dir) {
  auto r = server.client("auditor")->get("/v1/events?limit=5000", {"Tally-Min-Position: " + last});
  EXPECT_EQ(r.status, 200) << r.body;
  const std::string file = dir + "/export.ndjson";
  std::ofstream(file) << r.body;
  return file;
}

// The Python block of docs/audit.md, as an auditor would copy it.
std::string docs_script(const std::string& dir) {
  std::ifstream in(source_dir + "/docs/audit.md");
  std::stringstream md;
  md << in.rdbuf();
  const std::string text = md.str();
  const auto start = text.find("```python\n");
  EXPECT_NE(start, std::string::npos) << "docs/audit.md has no python block";
  const auto end = text.find("```", start + 10);
  const std::string file = dir + "/verify_export.py";
  std::ofstream(file) << text.substr(start + 10, end - start - 10);
  return file;
}

TEST(audit, the_chain_verifies_online_offline_and_by_the_documented_script) {
  temp_dir dir;
  tally_server server(dir.str(), false);
  const auto last = make_history(server);

  auto online = server.client("auditor")->get("/v1/audit/verify", {"Tally-Min-Position: " + last});
  ASSERT_EQ(online.status, 200) << online.body;
  EXPECT_TRUE(at(online.json(), {"ok"}).as_bool()) << online.body;
  EXPECT_EQ(num(at(online.json(), {"events"})), 6);
  const std::string head = str(at(online.json(), {"head"}));
  EXPECT_EQ(head.size(), 64u);
  EXPECT_EQ(server.client("host")->get("/v1/audit/verify").status, 403);

  // An export of GET /v1/events: tally verify --file and the docs' script agree with the server.
  const auto file = export_events(server, last, dir.str());
  auto by_file = run_tally({"verify", "--file", file});
  EXPECT_EQ(by_file.exit_code, 0) << by_file.out;
  EXPECT_NE(by_file.out.find("acme: ok, 6 events, head " + head), std::string::npos) << by_file.out;
  auto script = run_shell("python3 '" + docs_script(dir.str()) + "' '" + file + "'");
  EXPECT_EQ(script.exit_code, 0) << script.out;
  EXPECT_NE(script.out.find(head), std::string::npos) << script.out;

  if (kafka_mode()) return;  // the rest reads the embedded log's directory
  server.stop();
  auto offline = run_tally({"verify", "--data", dir.str()});
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_NE(offline.out.find("acme: ok, 6 events, head " + head), std::string::npos) << offline.out;
  EXPECT_NE(offline.out.find("globex: ok, 6 events"), std::string::npos) << offline.out;
}

TEST(audit, tampering_with_the_stored_log_is_found_at_its_position_offline_and_online) {
  if (kafka_mode()) GTEST_SKIP() << "edits the embedded log's files";
  temp_dir original;
  std::string head;
  {
    tally_server server(original.str(), false);
    make_history(server);
    server.stop();
  }
  struct tamper {
    const char* what;
    std::function<std::int64_t(raw_log&)> edit;  // returns the position that breaks
  };
  const std::vector<tamper> cases{
      {"a flipped byte",
       [](raw_log& log) {
         const auto at = log.nth("acme", 2);
         auto v = log.get(at);
         v[v.find("Ann 2") + 1] = 'X';
         log.put(at, v);
         return at;
       }},
      {"a deleted event",
       [](raw_log& log) {
         const auto at = log.nth("acme", 1);
         const auto next = log.nth("acme", 2);
         log.remove(at);
         return next;
       }},
      {"two events swapped",
       [](raw_log& log) {
         const auto a = log.nth("acme", 1), b = log.nth("acme", 2);
         const auto va = log.get(a), vb = log.get(b);
         log.put(a, vb);
         log.put(b, va);
         return a;
       }},
      {"an inserted event",
       [](raw_log& log) {
         // Every event from the 3rd of acme moves one on; a copy of acme's
         // first, with another id, takes its place.
         const auto at = log.nth("acme", 2);
         for (auto o = log.end() - 1; o >= at; --o) log.put(o + 1, log.get(o));
         auto forged = log.get(log.nth("acme", 0));
         forged.replace(forged.find(R"("id":")") + 6, 8, "deadbeef");
         log.put(at, forged);
         return at;
       }},
  };
  for (const auto& t : cases) {
    SCOPED_TRACE(t.what);
    temp_dir copy;
    fs::copy(original.str(), copy.str(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    std::int64_t broken;
    {
      raw_log log(copy.str());
      broken = t.edit(log);
    }
    const std::string position = "0:" + std::to_string(broken);
    auto offline = run_tally({"verify", "--data", copy.str(), "--tenant", "acme"});
    EXPECT_EQ(offline.exit_code, 1) << offline.out << offline.err;
    EXPECT_NE(offline.out.find("acme: broken at " + position + ": "), std::string::npos)
        << offline.out;
    // The other tenant's chain is untouched.
    EXPECT_NE(
        run_tally({"verify", "--data", copy.str(), "--tenant", "globex"}).out.find("globex: ok"),
        std::string::npos);
    tally_server server(copy.str(), false);
    auto online = server.client("auditor")->get("/v1/audit/verify");
    ASSERT_EQ(online.status, 200) << online.body;
    EXPECT_FALSE(at(online.json(), {"ok"}).as_bool()) << online.body;
    EXPECT_EQ(str(at(online.json(), {"position"})), position) << online.body;
    EXPECT_FALSE(str(at(online.json(), {"reason"})).empty());
  }
}

TEST(audit, a_signed_head_proves_the_history_before_it_even_in_a_longer_export) {
  temp_dir dir;
  std::string kid;
  {
    tally_server server(dir.str(), false);
    auto last = make_history(server);
    auto key = server.client("host")->get("/v1/audit/key");  // any role
    ASSERT_EQ(key.status, 200) << key.body;
    EXPECT_EQ(str(at(key.json(), {"kty"})), "OKP");
    EXPECT_EQ(str(at(key.json(), {"crv"})), "Ed25519");
    EXPECT_EQ(str(at(key.json(), {"x"})).size(), 43u);  // 32 bytes, base64url
    kid = str(at(key.json(), {"kid"}));
    EXPECT_FALSE(kid.empty());
    auto auditor = server.client("auditor");
    auto head = auditor->get("/v1/audit/head", {"Tally-Min-Position: " + last});
    ASSERT_EQ(head.status, 200) << head.body;
    EXPECT_EQ(str(at(head.json(), {"tenant"})), "acme");
    EXPECT_EQ(str(at(head.json(), {"position"})), last);
    EXPECT_EQ(str(at(head.json(), {"kid"})), kid);
    EXPECT_EQ(str(at(head.json(), {"hash"})),
              str(at(auditor->get("/v1/audit/verify").json(), {"head"})));
    EXPECT_EQ(server.client("host")->get("/v1/audit/head").status, 403);
    const std::string head_file = dir.str() + "/head.json", key_file = dir.str() + "/key.json";
    std::ofstream(head_file) << head.body;
    std::ofstream(key_file) << key.body;

    // More events after the head: the longer export still holds it.
    auto later = server.client("admin")->post("/v1/customers", R"({"name":"Later"})");
    const auto file = export_events(server, later.header("tally-position"), dir.str());
    auto holds = run_tally({"verify", "--file", file, "--head", head_file, "--key", key_file});
    EXPECT_EQ(holds.exit_code, 0) << holds.out;
    EXPECT_NE(holds.out.find("acme: ok, 7 events"), std::string::npos) << holds.out;
    EXPECT_NE(holds.out.find(": holds"), std::string::npos) << holds.out;

    // A head changed after signing.
    auto forged = head.body;
    const auto h = forged.find(R"("hash":")") + 8;
    forged[h] = forged[h] == 'a' ? 'b' : 'a';
    std::ofstream(dir.str() + "/forged.json") << forged;
    auto changed = run_tally(
        {"verify", "--file", file, "--head", dir.str() + "/forged.json", "--key", key_file});
    EXPECT_EQ(changed.exit_code, 1) << changed.out;
    EXPECT_NE(changed.out.find("the signature does not verify"), std::string::npos) << changed.out;

    // History rewritten before the head, every hash after it made anew: the
    // chain holds, the signed head does not.
    std::ifstream in(file);
    std::string line, rewritten, prev(tally::genesis_hash);
    bool first = true;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto pos_end = line.find("\",", 13);
      const std::string position = line.substr(13, pos_end - 13);
      auto e = *tally::decode_cloud_event(line);
      if (first) std::get<tally::customer_registered>(e.data).name = "Mallory";
      first = false;
      e.prevhash = prev;
      e.hash = tally::chain_hash(e);
      prev = e.hash;
      rewritten +=
          R"({"position":")" + position + "\"," + tally::encode_cloud_event(e).substr(1) + "\n";
    }
    std::ofstream(dir.str() + "/rewritten.ndjson") << rewritten;
    auto chain_only = run_tally({"verify", "--file", dir.str() + "/rewritten.ndjson"});
    EXPECT_EQ(chain_only.exit_code, 0) << chain_only.out;
    auto against_head = run_tally({"verify", "--file", dir.str() + "/rewritten.ndjson", "--head",
                                   head_file, "--key", key_file});
    EXPECT_EQ(against_head.exit_code, 1) << against_head.out;
    EXPECT_NE(against_head.out.find("the history before the head was rewritten"), std::string::npos)
        << against_head.out;
  }
  // The key is kept: the same after a restart, readable by its owner only.
  if (kafka_mode()) return;
  EXPECT_EQ(fs::status(dir.str() + "/audit-key.pem").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  tally_server again(dir.str(), false);
  EXPECT_EQ(str(at(again.client("host")->get("/v1/audit/key").json(), {"kid"})), kid);
}

TEST(audit, rebuild_verify_shows_the_read_models_are_what_the_log_says_and_names_a_difference) {
  if (kafka_mode()) GTEST_SKIP() << "edits the read models' files";
  temp_dir dir;
  {
    tally_server server(dir.str(), false);
    make_history(server);
    auto admin = server.client("admin");
    const auto customer =
        str(at(admin->post("/v1/customers", R"({"name":"Cat"})").json(), {"customer_id"}));
    const auto shop = str(
        at(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
               .json(),
           {"session_id"}));
    admin->post("/v1/sessions/" + shop + "/items", R"({"item_id":"tea","quantity":2})");
    auto ended = admin->post("/v1/sessions/" + shop + "/end");
    ASSERT_EQ(ended.status, 200) << ended.body;
    // The read models have everything before the server stops.
    ASSERT_EQ(
        admin
            ->get("/v1/sessions/" + shop, {"Tally-Min-Position: " + ended.header("tally-position")})
            .status,
        200);
    server.stop();
  }
  auto same = run_tally({"rebuild", "--verify", "--data", dir.str()});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  for (const auto* model : {"aggregates: same", "history: same", "events: same", "sessions: same",
                            "day: same", "cgram: same", "chainhead: same"})
    EXPECT_NE(same.out.find(model), std::string::npos) << model << " in\n" << same.out;
  EXPECT_NE(same.out.find("the read models are what the log says"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.str() + "/views-verify"));

  // A read model changed behind the log's back.
  std::string changed_key;
  {
    raw_log views(dir.str(), "views", "views");
    std::unique_ptr<rocksdb::Iterator> it(
        views.db->NewIterator(rocksdb::ReadOptions(), views.events));
    for (it->Seek("a/acme/customer-"); it->Valid(); it->Next()) {
      std::string v = it->value().ToString();
      if (v.find("Ann") == std::string::npos) continue;
      changed_key = it->key().ToString();
      v.replace(v.find("Ann"), 3, "Eve");
      ASSERT_TRUE(views.db->Put(rocksdb::WriteOptions(), views.events, it->key(), v).ok());
      break;
    }
  }
  ASSERT_FALSE(changed_key.empty());
  auto differs = run_tally({"rebuild", "--verify", "--data", dir.str()});
  EXPECT_EQ(differs.exit_code, 1) << differs.out << differs.err;
  EXPECT_NE(differs.out.find("aggregates: differs at " + changed_key), std::string::npos)
      << differs.out;
  EXPECT_NE(differs.out.find("history: same"), std::string::npos) << differs.out;
}

}  // namespace
