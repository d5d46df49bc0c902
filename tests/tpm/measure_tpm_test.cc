// The measurement engine on swtpm, checked by tpm2-tools as an independent peer:
// the CEL log replays (sha1 and sha256 banks) to the PCR values tpm2_pcrread
// reads; a changed file is recorded with its new digest by exactly one extend; a
// cycle with no change sends no TPM2_PCR_Extend; a TPM reset (reboot) with a new
// boot id starts a new log that replays from zero; the CLI does the same.
//
// swtpm serves one connection at a time, so every phase closes its EsysTpm before
// tpm2-tools runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/measure/measure_setup.h"
#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_file.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"
#include "attest/tpm/esys_tpm.h"
#include "tests/support/suite_resource.h"
#include "tests/support/swtpm.h"

namespace bulwark::agent {
namespace {

using bulwark::testing::Swtpm;

class MeasureTpm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { swtpm_.start(Swtpm::start()); }
  static void TearDownTestSuite() { swtpm_.stop(); }
  void SetUp() override {
    ASSERT_TRUE(swtpm_) << "swtpm did not start: " << swtpm_.error();
    dir_ = swtpm_->dir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/etc");
    write("boot_id", "11111111-2222-3333-4444-555555555555\n");
    write("etc/a.conf", "a=1\n");
    write("etc/b.conf", "b=1\n");
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ + "/" + rel, std::ios::trunc | std::ios::binary) << text;
  }
  AgentConfig config() {
    AgentConfig c;
    c.measure.pcr = 15;
    c.measure.log = dir_ + "/measure.log";
    c.measure.include = {dir_ + "/etc"};
    c.measure.systemd = false;
    c.measure.docker_socket = "";
    c.measure.oci_state_roots = {};
    c.measure.containerd_task_roots = {};
    return c;
  }

  struct Phase {
    std::vector<CycleReport> reports;
    std::uint64_t extends = 0;
  };
  // Opens the TPM, runs `cycles` cycles on one engine, closes the TPM.
  Phase runCycles(int cycles, std::size_t max_batch_content_bytes = 0) {
    Phase phase;
    auto tpm = attest::EsysTpm::open({swtpm_->tcti(), ""});
    EXPECT_TRUE(tpm.has_value()) << tpm.error().toString();
    if (!tpm) return phase;
    MeasureOptions o = measureOptionsFrom(config());
    // Only the fixture files: the test controls every change (a /proc scan for runtime
    // binaries would also find the dockerd/containerd of suites ctest runs alongside).
    o.host = false;
    o.runtime_binaries.clear();
    o.boot_id_path = dir_ + "/boot_id";
    if (max_batch_content_bytes > 0) o.max_batch_content_bytes = max_batch_content_bytes;
    auto stack = buildMeasureStack(config(), tpm->get(), o);
    EXPECT_TRUE(stack.has_value()) << stack.error().toString();
    if (!stack) return phase;
    for (int i = 0; i < cycles; ++i) {
      auto r = (*stack)->engine->runCycle();
      EXPECT_TRUE(r.has_value()) << r.error().toString();
      if (r) phase.reports.push_back(std::move(*r));
    }
    phase.extends = (*stack)->extendCount();
    return phase;
  }

  // tpm2_pcrread of PCR 15 in sha1 and sha256, raw values.
  std::pair<std::string, std::string> pcrread() {
    auto r = swtpm_->run("tpm2_pcrread sha1:15+sha256:15 -o " + dir_ + "/pcr15.bin");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto bytes = readFile(dir_ + "/pcr15.bin");
    EXPECT_TRUE(bytes.has_value());
    if (!bytes || bytes->size() != 52) return {};
    return {toHex(ByteView(bytes->data(), 20)), toHex(ByteView(bytes->data() + 20, 32))};
  }

  // Replays our log (both banks) and compares with tpm2_pcrread.
  void expectLogReplaysToTpm(const std::string& what) {
    auto bytes = attest::readCelFile(dir_ + "/measure.log");
    ASSERT_TRUE(bytes.has_value()) << what;
    auto log = attest::parseCel(*bytes);
    ASSERT_TRUE(log.has_value()) << log.error().toString();
    EXPECT_FALSE(log->torn.has_value());
    EXPECT_TRUE(attest::checkBulwarkRecords(*log).empty()) << what;
    auto replay = attest::replayCel(*log);
    auto [sha1, sha256] = pcrread();
    ASSERT_TRUE(replay.banks.at(HashAlg::kSha1).has_value());
    ASSERT_TRUE(replay.banks.at(HashAlg::kSha256).has_value());
    EXPECT_EQ(toHex(replay.banks.at(HashAlg::kSha1)->at(15)), sha1) << what;
    EXPECT_EQ(toHex(replay.banks.at(HashAlg::kSha256)->at(15)), sha256) << what;
  }

  std::string dir_;
  static inline bulwark::testing::SuiteResource<Swtpm> swtpm_;
};

// PCR 15 starts at zero after swtpm_setup; every test resets it by restarting.
TEST_F(MeasureTpm, LogReplaysChangeExtendsOnceNoChangeExtendsNothing) {
  ASSERT_TRUE(swtpm_->restart().has_value());
  Phase first = runCycles(2);
  ASSERT_EQ(first.reports.size(), 2u);
  EXPECT_TRUE(first.reports[0].extended);
  EXPECT_EQ(first.reports[0].logged.size(), 2u);
  EXPECT_FALSE(first.reports[1].extended);
  EXPECT_EQ(first.extends, 1u) << "one TPM2_PCR_Extend for the first cycle, none for the second";
  expectLogReplaysToTpm("after the first cycle");
  auto before = pcrread();

  // A restarted agent in the same boot: nothing new, nothing extended.
  Phase idle = runCycles(1);
  ASSERT_EQ(idle.reports.size(), 1u);
  EXPECT_FALSE(idle.reports[0].extended);
  EXPECT_EQ(idle.extends, 0u);
  EXPECT_EQ(pcrread(), before);

  // Two files change: one record with both new digests, one extend.
  write("etc/a.conf", "a=2\n");
  write("etc/b.conf", "b=2, longer\n");
  Phase changed = runCycles(2);
  ASSERT_EQ(changed.reports.size(), 2u);
  EXPECT_TRUE(changed.reports[0].extended);
  ASSERT_EQ(changed.reports[0].logged.size(), 2u);
  EXPECT_EQ(toHex(changed.reports[0].logged[0].sha256), toHex(sha256(asBytes("a=2\n"))));
  EXPECT_FALSE(changed.reports[1].extended);
  EXPECT_EQ(changed.extends, 1u);
  EXPECT_NE(pcrread(), before);
  expectLogReplaysToTpm("after the change");
}

// The tree size: a first cycle over 20,000 new files is more than one CEL
// record holds (1 MiB), yet it is ONE TPM2_PCR_Extend: batch-part records plus the
// batch record listing them. The log replays to tpm2_pcrread and attests every
// logged entry; the same with the record size lowered to force many parts.
TEST_F(MeasureTpm, TwentyThousandNewFilesAreOneExtend) {
  std::filesystem::create_directories(dir_ + "/etc/many");
  for (int i = 0; i < 20000; ++i) {
    std::ofstream(dir_ + "/etc/many/file-with-a-longer-name-" + std::to_string(i) + ".conf") << i;
  }
  for (std::size_t cap : {std::size_t{0}, std::size_t{64} << 10}) {
    SCOPED_TRACE("max_batch_content_bytes " + std::to_string(cap));
    ASSERT_TRUE(swtpm_->restart().has_value());
    std::filesystem::remove(dir_ + "/measure.log");
    Phase first = runCycles(2, cap);
    ASSERT_EQ(first.reports.size(), 2u);
    const CycleReport& r = first.reports[0];
    EXPECT_EQ(r.logged.size(), 20002u);
    EXPECT_EQ(r.records, 1u);
    EXPECT_GE(r.parts, cap == 0 ? 2u : 40u);
    EXPECT_FALSE(first.reports[1].extended);
    EXPECT_EQ(first.extends, 1u) << "one TPM2_PCR_Extend for 20,002 new entries";
    expectLogReplaysToTpm("20k files");
    auto bytes = attest::readCelFile(dir_ + "/measure.log");
    ASSERT_TRUE(bytes.has_value());
    auto log = attest::parseCel(*bytes);
    ASSERT_TRUE(log.has_value());
    auto entries = attest::loggedBatchEntries(*log);
    ASSERT_EQ(entries.size(), r.logged.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      ASSERT_EQ(entries[i].subject, r.logged[i].subject);
      ASSERT_EQ(entries[i].sha256, r.logged[i].sha256);
    }
  }
}

TEST_F(MeasureTpm, RebootStartsANewLogThatReplaysFromZero) {
  ASSERT_TRUE(swtpm_->restart().has_value());
  Phase first = runCycles(1);
  EXPECT_EQ(first.extends, 1u);
  expectLogReplaysToTpm("first boot");
  ASSERT_TRUE(swtpm_->restart().has_value());  // PCR 15 back to zero
  write("boot_id", "99999999-2222-3333-4444-555555555555\n");
  Phase second = runCycles(1);
  EXPECT_EQ(second.extends, 1u) << "a new boot measures everything again";
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/measure.log.prev"));
  expectLogReplaysToTpm("second boot");
}

TEST_F(MeasureTpm, CliExtendsOnceThenNothing) {
  ASSERT_TRUE(swtpm_->restart().has_value());
  const char* bin = std::getenv("BULWARK_BINARY_DIR");
  ASSERT_NE(bin, nullptr);
  std::string cfg = dir_ + "/agent.yaml";
  write("agent.yaml",
        "measure:\n  log: " + dir_ +
            "/measure.log\n  systemd: false\n"
            "  docker_socket: \"\"\n  oci_state_roots: []\n  containerd_task_roots: []\n"
            "  runtime_binaries: []\n");
  std::string cmd = std::string(bin) + "/bin/bulwark-agent measure --json --config " + cfg +
                    " --include " + dir_ + "/etc --tpm '" + swtpm_->tcti() + "' 2>/dev/null";
  auto first = bulwark::testing::runCommand(cmd);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto j1 = nlohmann::json::parse(first.output, nullptr, false);
  ASSERT_FALSE(j1.is_discarded()) << first.output;
  EXPECT_EQ(j1["extended"], true);
  EXPECT_EQ(j1["tpm_extends"], 1);
  EXPECT_EQ(j1["pcr"], 15);
  EXPECT_EQ(j1["log"], dir_ + "/measure.log");
  auto second = bulwark::testing::runCommand(cmd);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  auto j2 = nlohmann::json::parse(second.output, nullptr, false);
  ASSERT_FALSE(j2.is_discarded());
  EXPECT_EQ(j2["extended"], false);
  EXPECT_EQ(j2["tpm_extends"], 0);
  EXPECT_EQ(j2["measurements"], j1["measurements"]);
  expectLogReplaysToTpm("CLI");
}

}  // namespace
}  // namespace bulwark::agent
