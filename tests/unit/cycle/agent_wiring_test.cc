// Settings resolution shared by enroll/attest/run: config file, flag overrides,
// defaults and the early checks that fail before the TPM or network is touched.
#include "agent/cycle/agent_wiring.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;

class WiringTest : public ::testing::Test {
 protected:
  WiringTest()
      : path_(fs::temp_directory_path() /
              ("bulwark-wiring-" + std::to_string(::getpid()) + ".yaml")) {}
  ~WiringTest() override { fs::remove(path_); }
  std::string write(const std::string& yaml) {
    std::ofstream(path_) << yaml;
    return path_.string();
  }
  fs::path path_;
};

TEST_F(WiringTest, FlagsOverrideTheFileAndTheUrlIsCanonical) {
  std::string config = write(
      "node: from-file\nverifier: {url: \"https://v.example/\", ca_file: /etc/ca.pem}\n"
      "tpm: {tcti: \"device:/dev/tpmrm0\"}\n");
  auto s = resolveSettings(config, true, {});
  ASSERT_TRUE(s.has_value()) << s.error().toString();
  EXPECT_EQ(s->node, "from-file");
  EXPECT_EQ(s->verifier_url, "https://v.example:443");
  EXPECT_EQ(s->tcti, "device:/dev/tpmrm0");
  auto o = resolveSettings(config, true,
                           {.verifier_url = "https://10.0.0.1:8443/b/",
                            .ca_file = "/x/ca.pem",
                            .tcti = "swtpm:port=2321",
                            .node = "from-flag",
                            .state_dir = "/tmp/s"});
  ASSERT_TRUE(o.has_value()) << o.error().toString();
  EXPECT_EQ(o->verifier_url, "https://10.0.0.1:8443/b");
  EXPECT_EQ(o->verifier_ca_file, "/x/ca.pem");
  EXPECT_EQ(o->tcti, "swtpm:port=2321");
  EXPECT_EQ(o->node, "from-flag");
  EXPECT_EQ(o->state_dir, "/tmp/s");
}

SettingsOverrides badNode() {
  SettingsOverrides o;
  o.node = "bad name";
  return o;
}

TEST_F(WiringTest, EarlyErrorsNameWhatIsMissing) {
  struct Case {
    std::string yaml;
    SettingsOverrides flags;
    const char* message;
  };
  const Case cases[] = {
      {"node: n\n", {}, "no verifier URL"},
      {"node: n\nverifier: {url: \"https://v\"}\n", {}, "no CA file"},
      {"node: n\nverifier: {url: \"http://v\", ca_file: /c.pem}\n", {}, "https://"},
      {"node: n\nverifier: {url: \"https://v\", ca_file: /c.pem}\n",
       badNode(),
       "node name"},
  };
  for (const auto& tc : cases) {
    auto s = resolveSettings(write(tc.yaml), true, tc.flags);
    ASSERT_FALSE(s.has_value()) << tc.yaml;
    EXPECT_NE(s.error().toString().find(tc.message), std::string::npos) << s.error().toString();
  }
  auto missing = resolveSettings("/nonexistent/agent.yaml", true, {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  SettingsOverrides flags;
  flags.verifier_url = "https://v";
  flags.ca_file = "/c.pem";
  auto implicit = resolveSettings("/nonexistent/agent.yaml", false, flags);
  ASSERT_TRUE(implicit.has_value()) << "a default path that does not exist means defaults";
  EXPECT_FALSE(implicit->node.empty()) << "the host name";
}

TEST(Wiring, FormatsUnixMilliseconds) {
  EXPECT_EQ(formatUnixMs(0), "-");
  EXPECT_EQ(formatUnixMs(1714564800123), "2024-05-01T12:00:00.123Z");
}

}  // namespace
}  // namespace bulwark::agent
