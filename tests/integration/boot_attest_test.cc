// Measured boot end to end (issue 7): a real firmware event log's events are extended
// into a node's swtpm PCRs 0-9 with tpm2_pcrextend (tpm2-tools, an independent TPM
// client), the real bulwark-agent quotes them and ships the log, the real
// bulwark-verifier replays it (`appraisal.boot_pcrs: true`) and applies
// `appraisal.boot_policy` (docs/boot-policy.md, docs/verifier.md).
//
// The setup is proven independently: after the extends, tpm2_pcrread must show the
// PCR values the log's upstream project expects (tests/testdata/eventlogs/*/pcrs.json).
// Outcomes are read from the verifier with curl (GET /v1/nodes/{name} reasons).
//
// One suite-wide fleet: node "boot-1" booted rhel8_uefi (Secure Boot on, PCR 0 from
// locality 0), "boot-3" booted ubuntu_2104_no_secure_boot, "boot-2" has a fresh
// swtpm (nothing extended) but ships rhel8_uefi's log. Every test sets the verifier's
// boot policy and the node's log it needs, so the order does not matter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "attest/core/bytes.h"
#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"
#include "tests/support/fleet.h"
#include "tests/support/suite_resource.h"

namespace bulwark::testing {
namespace {

namespace el = bulwark::attest::eventlog;
namespace fs = std::filesystem;

std::string sourceDir() {
  const char* s = std::getenv("BULWARK_SOURCE_DIR");
  return s ? s : ".";
}
std::string logPath(const std::string& log) {
  return sourceDir() + "/tests/testdata/eventlogs/" + log + "/eventlog.bin";
}
std::string policyPath(const std::string& policy) {
  return sourceDir() + "/tests/testdata/boot_policies/" + policy + ".json";
}

// The sha256 PCRs 0-9 the upstream project expects the log to replay to.
std::map<int, std::string> expectedPcrs(const std::string& log) {
  std::ifstream in(sourceDir() + "/tests/testdata/eventlogs/" + log + "/pcrs.json");
  auto j = nlohmann::json::parse(in, nullptr, false);
  std::map<int, std::string> out;
  if (!j.is_object() || !j.contains("sha256")) return out;
  for (const auto& [pcr, hex] : j["sha256"].items()) {
    if (std::stoi(pcr) < 10) out[std::stoi(pcr)] = hex.get<std::string>();
  }
  return out;
}

// Extends every sha256 digest of PCRs 0-9 in log order (EV_NO_ACTION is never
// extended, TCG PC Client PFP §10.4.1), several per tpm2_pcrextend call.
Result<std::size_t> extendLog(const Swtpm& tpm, const std::string& log) {
  auto bytes = readFile(logPath(log));
  if (!bytes) return std::unexpected(bytes.error());
  auto parsed = el::parseEventLog(*bytes);
  if (!parsed) return std::unexpected(parsed.error());
  std::vector<std::string> specs;
  for (const el::Event& e : parsed->events) {
    if (e.type == el::ev::kNoAction || e.pcr >= 10) continue;
    const Bytes* d = e.digestFor(HashAlg::kSha256);
    if (d == nullptr) return fail(ErrorCode::kMalformed, "event without sha256 digest");
    specs.push_back(std::to_string(e.pcr) + ":sha256=" + toHex(*d));
  }
  for (std::size_t i = 0; i < specs.size(); i += 8) {
    std::string cmd = "tpm2_pcrextend";
    for (std::size_t k = i; k < std::min(specs.size(), i + 8); ++k) cmd += " " + specs[k];
    auto r = tpm.run(cmd);
    if (r.exit_code != 0) return fail(ErrorCode::kIo, cmd + ": " + r.output);
  }
  return specs.size();
}

// tpm2_pcrread sha256:0-9 → {pcr: lowercase hex}.
std::map<int, std::string> readPcrs(const Swtpm& tpm) {
  auto r = tpm.run("tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9");
  std::map<int, std::string> out;
  static const std::regex line_re(R"re(^\s*([0-9]+)\s*:\s*0x([0-9A-Fa-f]+)\s*$)re");
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, line_re)) continue;
    std::string hex = m[2];
    for (char& c : hex) c = char(std::tolower(static_cast<unsigned char>(c)));
    out[std::stoi(m[1])] = hex;
  }
  return out;
}

class BootAttest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fleet_.start(Fleet::create({.appraisal_extra = "boot_pcrs: true"}));
    ASSERT_TRUE(fleet_) << fleet_.error();
    bootNode("boot-1", "rhel8_uefi");
    bootNode("boot-3", "ubuntu_2104_no_secure_boot");
    ASSERT_TRUE(fleet_->addNode("boot-2").has_value());  // fresh swtpm: nothing extended
    ASSERT_TRUE(fleet_->setFirmwareLog("boot-2", logPath("rhel8_uefi")).has_value());
    auto up = fleet_->startVerifier();
    ASSERT_TRUE(up.has_value()) << up.error().toString();
    for (const char* name : {"boot-1", "boot-2", "boot-3"}) {
      auto enrolled = fleet_->enrollNode(name);
      ASSERT_TRUE(enrolled.has_value()) << enrolled.error().toString();
    }
    for (const char* name : {"boot-1", "boot-3"}) {
      auto first = fleet_->attestOnce(name);
      ASSERT_EQ(first.exit_code, 3) << first.output;  // nothing approved yet
      auto approved = fleet_->learnAndApprove(name);
      ASSERT_TRUE(approved.has_value()) << approved.error().toString();
    }
  }
  static void TearDownTestSuite() { fleet_.stop(); }
  void SetUp() override { ASSERT_TRUE(fleet_) << fleet_.error(); }

  // Extends `log` into a new node's swtpm and ships it; the read-back must equal the
  // upstream expected PCRs (else the test setup, not Bulwark, is wrong).
  static void bootNode(const std::string& name, const std::string& log) {
    ASSERT_TRUE(fleet_->addNode(name).has_value());
    const Swtpm* tpm = fleet_->swtpm(name);
    ASSERT_NE(tpm, nullptr);
    auto n = extendLog(*tpm, log);
    ASSERT_TRUE(n.has_value()) << n.error().toString();
    ASSERT_GT(*n, 20u);
    auto expected = expectedPcrs(log);
    ASSERT_EQ(expected.size(), 10u) << log;
    EXPECT_EQ(readPcrs(*tpm), expected) << log;
    ASSERT_TRUE(fleet_->setFirmwareLog(name, logPath(log)).has_value());
  }

  // Restarts the verifier when the boot policy changes ("" = replay only).
  static void useBootPolicy(const std::string& policy) {
    std::string extra = "boot_pcrs: true";
    if (!policy.empty()) extra += ", boot_policy: " + policyPath(policy);
    if (extra == current_extra_ && fleet_->verifierRunning()) return;
    fleet_->setAppraisalExtra(extra);
    auto r = fleet_->restartVerifier();
    if (!r) {
      // Leave a running verifier (previous configuration) for the other tests.
      fleet_->setAppraisalExtra(current_extra_);
      auto back = fleet_->restartVerifier();
      EXPECT_TRUE(back.has_value()) << back.error().toString();
    }
    ASSERT_TRUE(r.has_value()) << r.error().toString();
    current_extra_ = extra;
  }

  // Reason codes of the node's latest appraisal.
  static std::set<std::string> reasons(const std::string& name) {
    auto j = nlohmann::json::parse(fleet_->get("/v1/nodes/" + name), nullptr, false);
    std::set<std::string> out;
    if (!j.is_object() || !j.contains("reasons") || !j["reasons"].is_array()) {
      out.insert("error: " + j.dump());
      return out;
    }
    for (const auto& r : j["reasons"]) {
      if (r.is_object() && r.contains("code")) out.insert(r["code"].get<std::string>());
    }
    return out;
  }

  static std::string tamperedLogCopy() {
    auto bytes = readFile(logPath("rhel8_uefi"));
    EXPECT_TRUE(bytes.has_value());
    if (!bytes) return {};
    auto parsed = el::parseEventLog(*bytes);
    EXPECT_TRUE(parsed.has_value());
    if (!parsed) return {};
    // Flip one byte of grub's sha256 image digest (the 2nd boot application record,
    // PCR 4): the log still parses and still names Secure Boot on.
    std::string path = fleet_->dir() + "/rhel8_tampered.bin";
    Bytes copy = *bytes;
    const el::Event& grub = parsed->events.at(26);
    EXPECT_EQ(grub.type, el::ev::kEfiBootServicesApplication);
    const Bytes* d = grub.digestFor(HashAlg::kSha256);
    EXPECT_NE(d, nullptr);
    if (d == nullptr) return {};
    std::string hex = toHex(*d);
    auto pos = std::search(copy.begin() + long(grub.offset), copy.begin() + long(grub.data_offset),
                           d->begin(), d->end());
    EXPECT_NE(pos, copy.begin() + long(grub.data_offset)) << hex;
    *pos ^= 0x01;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(copy.data()),
                                                std::streamsize(copy.size()));
    return path;
  }

  static inline SuiteResource<Fleet> fleet_;
  static inline std::string current_extra_ = "boot_pcrs: true";
};

TEST_F(BootAttest, LogReplaysToQuotedPcrsAffirming) {
  useBootPolicy("");
  ASSERT_TRUE(fleet_->setFirmwareLog("boot-1", logPath("rhel8_uefi")).has_value());
  auto r = fleet_->attestOnce("boot-1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(fleet_->nodeState("boot-1"), "trusted");
  EXPECT_EQ(reasons("boot-1"), std::set<std::string>{});
}

TEST_F(BootAttest, BootPolicySatisfiedAffirming) {
  useBootPolicy("rhel8_allow");
  ASSERT_TRUE(fleet_->setFirmwareLog("boot-1", logPath("rhel8_uefi")).has_value());
  auto r = fleet_->attestOnce("boot-1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(fleet_->nodeState("boot-1"), "trusted");
}

// "The log replays but violates policy": the policy's reason, never a replay failure.
TEST_F(BootAttest, RevokedBootApplicationNotAffirming) {
  useBootPolicy("rhel8_revoke_grub");
  ASSERT_TRUE(fleet_->setFirmwareLog("boot-1", logPath("rhel8_uefi")).has_value());
  auto r = fleet_->attestOnce("boot-1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  auto codes = reasons("boot-1");
  EXPECT_TRUE(codes.count("digest-revoked")) << ::testing::PrintToString(codes);
  EXPECT_FALSE(codes.count("log-does-not-replay")) << ::testing::PrintToString(codes);
  EXPECT_NE(fleet_->nodeState("boot-1"), "trusted");
}

TEST_F(BootAttest, SecureBootDisabledNotAffirming) {
  useBootPolicy("");
  auto replay_only = fleet_->attestOnce("boot-3");
  EXPECT_EQ(replay_only.exit_code, 0) << replay_only.output;  // replays: policy is the only cause
  useBootPolicy("secure_boot_required");
  auto r = fleet_->attestOnce("boot-3");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  auto codes = reasons("boot-3");
  EXPECT_TRUE(codes.count("secure-boot-disabled")) << ::testing::PrintToString(codes);
  EXPECT_FALSE(codes.count("log-does-not-replay")) << ::testing::PrintToString(codes);
}

TEST_F(BootAttest, TamperedLogDoesNotReplay) {
  useBootPolicy("");
  std::string tampered = tamperedLogCopy();
  ASSERT_FALSE(tampered.empty());
  ASSERT_TRUE(fleet_->setFirmwareLog("boot-1", tampered).has_value());
  auto r = fleet_->attestOnce("boot-1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  auto codes = reasons("boot-1");
  EXPECT_TRUE(codes.count("log-does-not-replay")) << ::testing::PrintToString(codes);
  // The genuine log makes the node trusted again: the failure was the log, not the TPM.
  ASSERT_TRUE(fleet_->setFirmwareLog("boot-1", logPath("rhel8_uefi")).has_value());
  auto back = fleet_->attestOnce("boot-1");
  EXPECT_EQ(back.exit_code, 0) << back.output;
}

TEST_F(BootAttest, LogNotExtendedIntoTpmDoesNotReplay) {
  useBootPolicy("");
  auto r = fleet_->attestOnce("boot-2");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  auto codes = reasons("boot-2");
  EXPECT_TRUE(codes.count("log-does-not-replay")) << ::testing::PrintToString(codes);
  EXPECT_NE(fleet_->nodeState("boot-2"), "trusted");
}

}  // namespace
}  // namespace bulwark::testing
