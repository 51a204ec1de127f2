// Issue #10's CLI: --version, --config after the subcommand (as the README
// writes it), and --help naming each option's default and variable.

#include "support/tally_process.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace tally::testing;

namespace {

TEST(cli, version_prints_the_version_and_exits_0) {
  auto r = run_tally({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("tally ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find('.'), std::string::npos) << r.out;
}

TEST(cli, help_of_serve_names_defaults_and_environment_variables) {
  auto r = run_tally({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const auto* s :
       {"TALLY_DATA", "TALLY_LISTEN", "TALLY_MIN_FREE_DISK_MB", "TALLY_KAFKA", "TALLY_CORS_ORIGINS",
        "TALLY_WEBHOOK_ALLOW_HOSTS", "default ./tally-data", "default 127.0.0.1:8080", "--config"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " missing from:\n" << r.out;
}

TEST(cli, projector_and_gateway_take_the_same_settings_and_name_them_in_help) {
  for (const char* sub : {"projector", "gateway"}) {
    auto r = run_tally({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const auto* s :
         {"TALLY_DATA", "TALLY_LISTEN", "TALLY_KAFKA", "TALLY_TOPIC", "TALLY_THREADS",
          "TALLY_CORS_ORIGINS", "TALLY_WEBHOOK_ALLOW_HOSTS", "TOML kafka", "default ./tally-data",
          "default 127.0.0.1:8080", "default tally.events"})
      EXPECT_NE(r.out.find(s), std::string::npos) << sub << ": " << s << " missing from:\n"
                                                  << r.out;
  }
  EXPECT_NE(run_tally({"gateway", "--help"}).out.find("TALLY_PROJECTOR"), std::string::npos);
  // Required, from any of the three sources; checked like the flag.
  auto missing = run_tally({"projector"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--kafka is required"), std::string::npos) << missing.err;
  temp_dir dir;
  const std::string file = dir.str() + "/tally.toml";
  std::ofstream(file) << "kafka = \"127.0.0.1:1\"\nthreads = 200\n";
  auto bad = run_tally({"projector", "--config", file});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("threads in " + file), std::string::npos) << bad.err;
  auto bad_env = run_tally({"serve", "--data", dir.str() + "/data"}, {"TALLY_THREADS=lots"});
  EXPECT_EQ(bad_env.exit_code, 2);
  EXPECT_NE(bad_env.err.find("TALLY_THREADS"), std::string::npos) << bad_env.err;
}

TEST(cli, config_works_after_the_subcommand) {
  temp_dir dir;
  const std::string file = dir.str() + "/tally.toml";
  std::ofstream(file) << "cors_origins = \"https://app.example.com\"\n";
  temp_dir data;
  server_options o;
  o.extra_args = {"--config", file};
  tally_server server(data.str(), false, o);
  auto r = server.client("admin")->get("/v1/customers", {"Origin: https://app.example.com"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://app.example.com");
}

}  // namespace
