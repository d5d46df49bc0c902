// The log stage with real firmware logs (tests/testdata/eventlogs): PCRs 0-9 replayed
// from the firmware log, the measurement PCR from the CEL log, and the boot policy
// (docs/boot-policy.md) evaluated only once the logs replay to the quote.
#include <gtest/gtest.h>

#include <set>

#include "attest/cel/cel_parser.h"
#include "attest/eventlog/replay.h"
#include "server/appraisal/pipeline.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server {
namespace {

std::string logBytes(const std::string& name) {
  return test::readText(test::sourceDir() + "/tests/testdata/eventlogs/" + name + "/eventlog.bin");
}

struct BootStage {
  ParsedEvidence ev;
  attest::PcrSelection selection = *attest::PcrSelection::parse("sha256:0,1,2,3,4,5,6,7,8,9,15");
  std::optional<attest::eventlog::CompiledBootPolicy> policy;

  // Quoted values as a TPM that booted with `name`'s firmware would report them.
  explicit BootStage(const std::string& name, bool firmware = true, bool cel = true) {
    std::string raw = logBytes(name);
    auto tcg = attest::eventlog::parseEventLog(asBytes(raw));
    EXPECT_TRUE(tcg.has_value()) << name;
    auto rep = attest::eventlog::replay(*tcg);
    EXPECT_TRUE(rep.has_value()) << name;
    attest::PcrBankValues bank{HashAlg::kSha256, {}};
    for (std::uint32_t p = 0; p < 10; ++p) bank.values.push_back({p, rep->banks.at(HashAlg::kSha256).at(p)});
    bank.values.push_back({15, Bytes(32, 0)});
    ev.pcrs = {bank};
    ev.report.set_measurement_pcr(15);
    if (firmware) {
      ParsedLog fw;
      fw.format = bulwark::v1::EventLog::TCG_PC_CLIENT;
      fw.tcg = std::move(*tcg);
      fw.raw = raw;
      ev.logs.push_back(std::move(fw));
    }
    if (cel) {
      ParsedLog l;  // the agent's log right after boot: nothing extended yet
      l.format = bulwark::v1::EventLog::CEL_JSON;
      l.index = 1;
      l.cel = *attest::parseCel({});
      ev.logs.push_back(std::move(l));
    }
  }
  std::set<std::string> run(bool& logs_passed) {
    PipelineInput in;
    in.evidence = &ev;
    in.expected = &selection;
    in.measurement_pcr = 15;
    in.boot_policy = policy ? &*policy : nullptr;
    CheckLedger ledger;
    checkLogs(ledger, in);
    logs_passed = ledger.passed(Check::kLogs);
    std::set<std::string> codes;
    for (const Reason& r : ledger.reasons()) codes.insert(r.code);
    return codes;
  }
};

attest::eventlog::CompiledBootPolicy requireSecureBoot() {
  return *attest::eventlog::compileBootPolicy(attest::eventlog::BootPolicy{});
}

TEST(BootStage, FirmwareLogReplaysAndBootPolicyJudges) {
  struct Case {
    std::string log;
    bool with_policy;
    std::set<std::string> codes;
    bool logs_pass;
  };
  const Case cases[] = {
      {"cos_101_amd_sev", false, {}, true},
      {"cos_101_amd_sev", true, {}, true},
      {"rhel8_uefi", true, {}, true},
      {"ubuntu_2104_no_secure_boot", false, {}, true},  // replay only: no opinion on secure boot
      {"ubuntu_2104_no_secure_boot", true, {"secure-boot-disabled"}, true},
      {"arch_linux_workstation", true, {"secure-boot-disabled"}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.log + (c.with_policy ? " with policy" : ""));
    BootStage s(c.log);
    if (c.with_policy) s.policy.emplace(requireSecureBoot());
    bool passed = false;
    EXPECT_EQ(s.run(passed), c.codes);
    EXPECT_EQ(passed, c.logs_pass);
  }
}

TEST(BootStage, EvidenceProblems) {
  {
    SCOPED_TRACE("a tampered PCR 4: no replay, no policy verdict");
    BootStage s("rhel8_uefi");
    s.policy.emplace(requireSecureBoot());
    s.ev.pcrs[0].values[4].value[0] ^= 1;
    bool passed = true;
    EXPECT_EQ(s.run(passed), std::set<std::string>{"log-does-not-replay"});
    EXPECT_FALSE(passed);
  }
  {
    SCOPED_TRACE("boot PCRs quoted without a firmware log");
    BootStage s("rhel8_uefi", false);
    bool passed = true;
    EXPECT_EQ(s.run(passed), std::set<std::string>{"log-missing"});
    EXPECT_FALSE(passed);
  }
  {
    SCOPED_TRACE("measurement PCR without any CEL log");
    BootStage s("rhel8_uefi", true, false);
    bool passed = true;
    EXPECT_EQ(s.run(passed), std::set<std::string>{"log-missing"});
    EXPECT_FALSE(passed);
  }
}

}  // namespace
}  // namespace bulwark::server
