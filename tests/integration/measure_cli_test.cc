// `bulwark-agent measure` as an operator runs it: bad configurations and flags
// fail with a message naming the key or value (exit 1/2), problems with what is
// measured (missing include, FIFO, vanished paths) are notes and the cycle
// completes (exit 0, JSON on stdout).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "attest/core/digest.h"
#include "tests/support/swtpm.h"  // runCommand

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;
using bulwark::testing::runCommand;

class MeasureCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("BULWARK_BINARY_DIR");
    ASSERT_NE(bin, nullptr) << "BULWARK_BINARY_DIR must be set (ctest sets it)";
    agent_ = std::string(bin) + "/bin/bulwark-agent";
    std::string tmpl = (fs::temp_directory_path() / "bulwark-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string config(const std::string& yaml) {
    std::string path = dir_ + "/agent.yaml";
    std::ofstream(path) << yaml;
    return path;
  }
  // stdout and stderr separately: stderr goes to a file.
  std::pair<bulwark::testing::CommandResult, std::string> run(const std::string& args) {
    auto r = runCommand(agent_ + " " + args + " 2>" + dir_ + "/stderr");
    std::ifstream in(dir_ + "/stderr");
    std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {r, err};
  }
  std::string agent_;
  std::string dir_;
};

TEST_F(MeasureCli, BadConfigurationAndFlagsAreClearErrors) {
  struct Case {
    const char* name;
    std::string yaml;  // "" = no config file written
    std::string args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"unknown key", "measure:\n  pcrs: 1\n", "", 1, "measure.pcrs: unknown key"},
      {"resettable pcr", "measure:\n  pcr: 16\n", "", 1, "PCR 16 is resettable"},
      {"relative include", "measure:\n  include: [etc]\n", "", 1,
       "measure.include[0]: 'etc' is not an absolute path"},
      {"not yaml", "measure: [\n", "", 1, "not valid YAML"},
      {"missing explicit config", "", "--config /nonexistent/agent.yaml", 1,
       "/nonexistent/agent.yaml"},
      {"bad tcti", "measure:\n  systemd: false\n", "--tpm bogus:x", 1, "TPM bogus:x"},
      {"unknown flag", "", "--frobnicate", 2, "frobnicate"},
  };
  for (const auto& c : cases) {
    std::string args = "measure --json " + c.args;
    if (!c.yaml.empty()) args += " --config " + config(c.yaml);
    auto [r, err] = run(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.name << "\n" << err;
    EXPECT_NE(err.find(c.message), std::string::npos) << c.name << ": stderr was\n" << err;
    if (c.exit_code != 0) {
      EXPECT_TRUE(r.output.empty()) << c.name << ": no JSON on failure";
    }
  }
}

TEST_F(MeasureCli, UnmeasurableInputsAreNotesAndTheCycleCompletes) {
  fs::create_directories(dir_ + "/etc");
  std::ofstream(dir_ + "/etc/good.conf") << "ok\n";
  ASSERT_EQ(::mkfifo((dir_ + "/pipe").c_str(), 0600), 0);
  ASSERT_EQ(::symlink((dir_ + "/gone").c_str(), (dir_ + "/dangling").c_str()), 0);
  std::string cfg = config("measure:\n  systemd: false\n  docker_socket: " + dir_ +
                           "/no-docker.sock\n  oci_state_roots: [" + dir_ + "/no-runc]\n");
  auto [r, err] =
      run("measure --json --config " + cfg + " --include " + dir_ + "/etc --include " + dir_ +
          "/pipe --include " + dir_ + "/dangling --include '" + dir_ + "/nothing-*'");
  ASSERT_EQ(r.exit_code, 0) << err;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  bool good = false;
  for (const auto& m : j["measurements"]) {
    if (m["subject"] == dir_ + "/etc/good.conf") {
      good = true;
      EXPECT_EQ(m["kind"], "host-file");
      EXPECT_EQ(m["sha256"], toHex(sha256(asBytes("ok\n"))));
    }
  }
  EXPECT_TRUE(good) << r.output;
  EXPECT_EQ(j["extended"], false);
  EXPECT_TRUE(j["log"].is_null());
  for (std::string part :
       {"/pipe: not a regular file", "/dangling: does not exist", "nothing-*: no match"}) {
    EXPECT_NE(err.find(part), std::string::npos) << part << "\n" << err;
  }
}

TEST_F(MeasureCli, HelpDescribesTheCommand) {
  auto [r, err] = run("measure --help");
  EXPECT_EQ(r.exit_code, 0) << err;
  EXPECT_NE(r.output.find("--include"), std::string::npos);
  EXPECT_NE(r.output.find("--tpm"), std::string::npos);
  EXPECT_NE(r.output.find("--json"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::agent
