// A full disk (issue #7, defect 2): the data directory on a small tmpfs that
// the test fills. Commands get 503 `unavailable` with Retry-After at once,
// /readyz says 503, nothing is half-written, the process does not die, and
// writes resume by themselves once there is room again.
//
// Needs to mount a tmpfs (root, as CI is); elsewhere the tests are skipped
// and say why.

#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

using namespace tally::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::uint64_t free_bytes(const fs::path& p) {
  struct statvfs st {};
  ::statvfs(p.c_str(), &st);
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

struct disk_full : ::testing::Test {
  temp_dir dir;
  fs::path mount_point;
  bool mounted = false;
  std::unique_ptr<tally_server> server;
  std::unique_ptr<http_client> admin;

  void SetUp() override {
    mount_point = dir.path() / "small-disk";
    fs::create_directories(mount_point);
    mounted = ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=400m") == 0;
    if (!mounted) GTEST_SKIP() << "cannot mount a tmpfs here (not root?): " << std::strerror(errno);
  }
  void TearDown() override {
    server.reset();
    if (mounted) ::umount2(mount_point.c_str(), MNT_DETACH);
  }
  void start(std::vector<std::string> args) {
    server = std::make_unique<tally_server>((mount_point / "data").string(), true,
                                            server_options{.extra_args = std::move(args)});
    admin = server->client("admin");
  }
  // Fills the disk until `leave` bytes are free (0: until the disk refuses).
  void fill(std::uint64_t leave) {
    std::ofstream out(mount_point / "filler", std::ios::binary | std::ios::app);
    const std::string chunk(1 << 20, 'x');
    while (free_bytes(mount_point) > leave + chunk.size() && out.write(chunk.data(), chunk.size()))
      out.flush();
    if (leave == 0) {
      const std::string small(4096, 'x');
      while (out.write(small.data(), small.size()) && out.flush()) {
      }
    }
  }
  void make_room() { fs::remove(mount_point / "filler"); }
  bool eventually_ready() {
    return eventually([&] { return admin->get("/readyz").status == 200; });
  }
  response register_customer(int i) {
    return admin->post("/v1/customers", R"({"name":"C)" + std::to_string(i) + "\"}");
  }
  std::size_t customers() {
    auto marker = admin->put("/v1/inventory/marker", R"({"name":"m","unit_price_cents":1})");
    auto r = admin->get("/v1/customers?limit=500",
                        {"Tally-Min-Position: " + marker.header("tally-position")});
    return at(r.json(), {"items"}).as_array().size();
  }
};

TEST_F(disk_full, under_the_reserve_commands_get_503_readyz_says_so_and_room_resumes_writes) {
  start({});
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += register_customer(i).status == 201;
  ASSERT_EQ(accepted, 5);
  ASSERT_EQ(admin->get("/readyz").status, 200);
  fill(40ull << 20);  // under the 64 MiB reserve
  const auto t0 = std::chrono::steady_clock::now();
  auto refused = register_customer(100);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.code(), "unavailable");
  EXPECT_FALSE(refused.header("retry-after").empty());
  EXPECT_LT(took, 5s) << "a refused command must not hang";
  auto ready = admin->get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(admin->get("/healthz").status, 200);
  make_room();
  // Resumes by itself: no restart.
  int attempt = 200;
  ASSERT_TRUE(eventually([&] { return register_customer(attempt++).status == 201; }));
  EXPECT_EQ(admin->get("/readyz").status, 200);
  EXPECT_EQ(customers(), 6u) << "a refused command left something behind";
}

TEST_F(disk_full, a_write_that_hits_enospc_is_503_never_a_crash_and_resumes) {
  // No reserve: RocksDB itself meets the full disk. Its WAL is preallocated,
  // so the commands are large notes: the log outgrows what it holds in reserve.
  start({"--min-free-disk-mb", "0"});
  const auto customer =
      str(at(admin->post("/v1/customers", R"({"name":"Ann"})").json(), {"customer_id"}));
  std::vector<std::string> sessions;
  for (int i = 0; i < 50; ++i)
    sessions.push_back(str(
        at(admin->post("/v1/sessions", R"({"kind":"shopping","customer_id":")" + customer + R"("})")
               .json(),
           {"session_id"})));
  fill(0);
  const std::string note = R"({"text":")" + std::string(3900, 'n') + R"("})";
  int ok = 0, unavailable = 0, other = 0;
  for (int i = 0; i < 4000 && unavailable < 20; ++i) {
    auto r =
        admin->post("/v1/sessions/" + sessions[static_cast<std::size_t>(i) % 50] + "/notes", note);
    if (r.status == 201)
      ++ok;
    else if (r.status == 503 && r.code() == "unavailable")
      ++unavailable;
    else
      ++other;
    if (r.status == 0) break;  // the server died
  }
  EXPECT_GT(unavailable, 0) << "the disk never filled: " << ok << " accepted";
  EXPECT_EQ(other, 0) << "answers other than 201 or 503";
  ASSERT_EQ(admin->get("/healthz").status, 200) << "the server died";
  EXPECT_EQ(admin->get("/readyz").status, 503);
  make_room();
  ASSERT_TRUE(eventually([&] {
    return admin->post("/v1/sessions/" + sessions[0] + "/notes", R"({"text":"back"})").status ==
           201;
  }));
  ++ok;
  auto notes = [&] {
    auto marker = admin->put("/v1/inventory/marker", R"({"name":"m","unit_price_cents":1})");
    std::size_t n = 0;
    for (const auto& id : sessions)
      n += at(admin
                  ->get("/v1/sessions/" + id,
                        {"Tally-Min-Position: " + marker.header("tally-position")})
                  .json(),
              {"notes"})
               .as_array()
               .size();
    return n;
  };
  EXPECT_EQ(notes(), static_cast<std::size_t>(ok)) << "what was acknowledged is what is there";
  EXPECT_TRUE(eventually_ready());
  // And it starts again from what it wrote.
  ASSERT_EQ(server->stop(), 0);
  start({"--min-free-disk-mb", "0"});
  EXPECT_EQ(notes(), static_cast<std::size_t>(ok));
}

TEST_F(disk_full, serve_on_a_full_disk_exits_with_a_message_not_an_abort) {
  start({});
  ASSERT_EQ(register_customer(0).status, 201);
  ASSERT_EQ(server->stop(), 0);
  server.reset();
  fill(8ull << 20);
  auto r =
      run_tally({"serve", "--data", (mount_point / "data").string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  auto rebuild = run_tally({"rebuild", "--data", (mount_point / "data").string()});
  EXPECT_EQ(rebuild.exit_code, 1);
  make_room();
  auto again = run_tally({"rebuild", "--data", (mount_point / "data").string()});
  EXPECT_EQ(again.exit_code, 0) << again.out;
}

}  // namespace
