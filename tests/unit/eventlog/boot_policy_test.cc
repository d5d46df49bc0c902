// Boot policy and full appraisal on real logs: every rule passes and fails for the
// reason it names, and "does not replay" stays distinct from "violates policy".
#include "attest/eventlog/boot_policy.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "attest/eventlog/event_data.h"
#include "attest/eventlog/event_types.h"
#include "tests/unit/eventlog/test_logs.h"

namespace bulwark::attest::eventlog {
namespace {

using testing::loadExpectedPcrs;
using testing::loadLog;
using testing::loadLogBytes;

CompiledBootPolicy compile(BootPolicy p) {
  auto c = compileBootPolicy(std::move(p));
  EXPECT_TRUE(c.has_value()) << c.error().toString();
  return std::move(*c);
}

BootPolicy relaxed() {
  BootPolicy p;
  p.require_secure_boot = false;
  return p;
}

const BootClaim* claim(const BootAppraisal& a, std::string_view rule_prefix) {
  for (const auto& c : a.claims) {
    if (c.rule.starts_with(rule_prefix)) return &c;
  }
  return nullptr;
}

TEST(BootAppraisal, EveryRealLogReplaysAndMeetsARelaxedPolicy) {
  CompiledBootPolicy policy = compile(relaxed());
  for (const char* name : testing::kAllLogs) {
    auto a = appraiseBootLog(loadLogBytes(name), loadExpectedPcrs(name), policy);
    EXPECT_TRUE(a.affirming()) << name << ": " << bootReasonName(a.primaryReason());
    ASSERT_TRUE(a.facts.has_value()) << name;
  }
}

TEST(BootAppraisal, RequireSecureBootFollowsTheLog) {
  CompiledBootPolicy policy = compile(BootPolicy{});
  struct Case {
    const char* name;
    BootReason reason;
  } cases[] = {{"rhel8_uefi", BootReason::kOk},
               {"debian_10", BootReason::kOk},
               {"cos_101_amd_sev", BootReason::kOk},
               {"ubuntu_2104_no_secure_boot", BootReason::kSecureBootDisabled},
               {"arch_linux_workstation", BootReason::kSecureBootDisabled},
               {"gdc_host", BootReason::kSecureBootDisabled}};
  for (const auto& c : cases) {
    auto a = appraiseBootLog(loadLogBytes(c.name), loadExpectedPcrs(c.name), policy);
    EXPECT_EQ(a.primaryReason(), c.reason) << c.name;
    ASSERT_NE(claim(a, "secure-boot"), nullptr) << c.name;
    EXPECT_FALSE(isEvidenceFailure(a.primaryReason())) << c.name;
  }
}

// Evidence failures: each tampering gives its own reason and no policy claims.
TEST(BootAppraisal, EvidenceFailuresAreNotPolicyFailures) {
  CompiledBootPolicy policy = compile(BootPolicy{});
  const std::string name = "rhel8_uefi";
  Bytes log = loadLogBytes(name);
  PcrBanks pcrs = loadExpectedPcrs(name);

  PcrBanks wrong = pcrs;
  wrong[HashAlg::kSha256][7][0] ^= 1;
  auto a = appraiseBootLog(log, wrong, policy);
  EXPECT_EQ(a.primaryReason(), BootReason::kLogDoesNotReplay);
  EXPECT_FALSE(a.facts.has_value());
  EXPECT_NE(claim(a, "replay")->detail.find("sha256 PCR 7"), std::string::npos);

  PcrBanks other_bank;
  other_bank[HashAlg::kSha512][0] = Bytes(64, 0);
  EXPECT_EQ(appraiseBootLog(log, other_bank, policy).primaryReason(), BootReason::kLogDoesNotReplay);
  EXPECT_EQ(appraiseBootLog(log, {}, policy).primaryReason(), BootReason::kLogDoesNotReplay);

  Bytes truncated(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - 3));
  EXPECT_EQ(appraiseBootLog(truncated, pcrs, policy).primaryReason(), BootReason::kLogMalformed);

  PcrBanks partial = pcrs;
  partial[HashAlg::kSha1].erase(7);
  partial[HashAlg::kSha256].erase(7);
  EXPECT_EQ(appraiseBootLog(log, partial, policy).primaryReason(), BootReason::kPcrNotQuoted);
}

// Flipping the SecureBoot variable's data byte leaves every digest (and so the
// replay) intact: only the data/digest check can catch the forgery.
TEST(BootAppraisal, ForgedSecureBootDataIsInconsistentNotEnabled) {
  const std::string name = "ubuntu_2104_no_secure_boot";
  Bytes log = loadLogBytes(name);
  EventLog parsed = loadLog(name);
  auto sb = std::find_if(parsed.events.begin(), parsed.events.end(), [](const Event& e) {
    auto v = e.type == ev::kEfiVariableDriverConfig ? decodeUefiVariable(e.data) : Result<UefiVariableData>(UefiVariableData{});
    return v && v->name == "SecureBoot";
  });
  ASSERT_NE(sb, parsed.events.end());
  std::size_t value_at = sb->data_offset + sb->data.size() - 1;
  ASSERT_EQ(log[value_at], 0);
  log[value_at] = 1;
  auto a = appraiseBootLog(log, loadExpectedPcrs(name), compile(BootPolicy{}));
  EXPECT_EQ(a.primaryReason(), BootReason::kLogInconsistent);
  EXPECT_TRUE(isEvidenceFailure(a.primaryReason()));
}

const char* const kCos85Apps[] = {"dba8d69ffb244496ac8ab2950695d3da539d6ac5ec660fc6b4bdde245284cf23",
                                  "f7bad83f87940312e4642530a9a6242e88529dc37a497d7d4e7c1c070566d542",
                                  "6f6afb3caed004e727200a0c310731bd8ab4cd391b2d95cedf67d08e1e8e5e7e"};

struct RuleCase {
  const char* label;
  std::string log;
  BootPolicy policy;
  std::string rule;
  BootReason expected;
};

std::vector<RuleCase> ruleCases() {
  std::vector<RuleCase> cases;
  auto add = [&](const char* label, std::string log, auto edit, std::string rule, BootReason r) {
    BootPolicy p = relaxed();
    edit(p);
    cases.push_back({label, std::move(log), std::move(p), std::move(rule), r});
  };
  using K = CmdlineRule::Kind;
  add("apps allowed", "cos_85_amd_sev", [](BootPolicy& p) { p.allowed_boot_applications = std::set<std::string>(std::begin(kCos85Apps), std::end(kCos85Apps)); }, "boot-applications", BootReason::kOk);
  add("app missing from allowlist", "cos_85_amd_sev", [](BootPolicy& p) { p.allowed_boot_applications = std::set<std::string>(std::begin(kCos85Apps), std::end(kCos85Apps) - 1); }, "boot-applications", BootReason::kBootAppNotAllowed);
  add("allowlist in sha1 bank", "cos_85_amd_sev", [](BootPolicy& p) { p.digest_alg = HashAlg::kSha1; p.allowed_boot_applications = std::set<std::string>(std::begin(kCos85Apps), std::end(kCos85Apps)); }, "boot-applications", BootReason::kBootAppNotAllowed);
  add("revoked shim", "cos_85_amd_sev", [](BootPolicy& p) { p.forbidden_digests = {kCos85Apps[0]}; }, "revoked-digests", BootReason::kDigestRevoked);
  add("revoked (upper-case hex)", "cos_85_amd_sev", [](BootPolicy& p) { p.forbidden_digests = {"DBA8D69FFB244496AC8AB2950695D3DA539D6AC5EC660FC6B4BDDE245284CF23"}; }, "revoked-digests", BootReason::kDigestRevoked);
  add("nothing revoked", "cos_85_amd_sev", [](BootPolicy& p) { p.forbidden_digests = {std::string(64, 'a')}; }, "revoked-digests", BootReason::kOk);
  add("require present", "cos_101_amd_sev", [](BootPolicy& p) { p.cmdline_rules = {{K::kRequireSubstring, "module.sig_enforce=1"}}; }, "kernel-cmdline", BootReason::kOk);
  add("require absent", "cos_101_amd_sev", [](BootPolicy& p) { p.cmdline_rules = {{K::kRequireSubstring, "lockdown=integrity"}}; }, "kernel-cmdline", BootReason::kCmdlineRequiredAbsent);
  add("forbid absent", "cos_101_amd_sev", [](BootPolicy& p) { p.cmdline_rules = {{K::kForbidSubstring, "init=/bin/sh"}}; }, "kernel-cmdline", BootReason::kOk);
  add("forbid present", "cos_101_amd_sev", [](BootPolicy& p) { p.cmdline_rules = {{K::kForbidSubstring, "loglevel=7"}}; }, "kernel-cmdline", BootReason::kCmdlineForbiddenPresent);
  add("require regex", "cos_101_amd_sev", [](BootPolicy& p) { p.cmdline_rules = {{K::kRequireRegex, R"(root_hexdigest=[0-9a-f]{64}\b)"}}; }, "kernel-cmdline", BootReason::kOk);
  add("forbid regex", "ubuntu_2404_amd_sevsnp", [](BootPolicy& p) { p.cmdline_rules = {{K::kForbidRegex, R"(\bpanic=-?[0-9]+)"}}; }, "kernel-cmdline", BootReason::kCmdlineForbiddenPresent);
  add("rhel cmdline", "rhel8_uefi", [](BootPolicy& p) { p.cmdline_rules = {{K::kRequireSubstring, "crashkernel="}}; }, "kernel-cmdline", BootReason::kOk);
  add("systemd-boot cmdline", "arch_linux_workstation", [](BootPolicy& p) { p.cmdline_rules = {{K::kRequireSubstring, "intel_iommu=on"}}; }, "kernel-cmdline", BootReason::kOk);
  add("no cmdline measured", "debian_10", [](BootPolicy& p) { p.cmdline_rules = {{K::kForbidSubstring, "x"}}; }, "kernel-cmdline", BootReason::kCmdlineMissing);
  add("dbx pinned", "ubuntu_2104_no_dbx", [](BootPolicy& p) { p.allowed_variables["dbx"] = {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}; }, "variable dbx", BootReason::kOk);
  add("dbx not allowed", "ubuntu_2104_no_secure_boot", [](BootPolicy& p) { p.allowed_variables["dbx"] = {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}; }, "variable dbx", BootReason::kVariableNotAllowed);
  add("separators", "glinux_alex", [](BootPolicy&) {}, "separators", BootReason::kOk);
  return cases;
}

TEST(BootPolicy, EachRulePassesAndFailsForItsReason) {
  for (auto& c : ruleCases()) {
    auto compiled = compileBootPolicy(c.policy);
    ASSERT_TRUE(compiled.has_value()) << c.label << ": " << compiled.error().toString();
    auto a = appraiseBootLog(loadLogBytes(c.log), loadExpectedPcrs(c.log), *compiled);
    const BootClaim* cl = claim(a, c.rule);
    ASSERT_NE(cl, nullptr) << c.label;
    EXPECT_EQ(cl->reason, c.expected) << c.label << ": " << bootReasonName(cl->reason) << " " << cl->detail;
    EXPECT_EQ(a.affirming(), c.expected == BootReason::kOk) << c.label;
  }
}

TEST(BootPolicy, CmdlineMustBeBound) {
  BootFacts facts;
  facts.kernel_cmdlines.push_back({"quiet lockdown=integrity", "grub", 8, 3, false});
  BootPolicy p = relaxed();
  p.require_separators = false;
  p.cmdline_rules = {{CmdlineRule::Kind::kRequireSubstring, "lockdown=integrity"}};
  auto claims = evaluateBootPolicy(facts, compile(p));
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].reason, BootReason::kCmdlineUnbound);
}

TEST(BootPolicy, UnknownSecureBootAndMissingSeparatorsFail) {
  BootFacts facts;
  facts.separators = {true, true, true, true, true, true, true, false};
  auto claims = evaluateBootPolicy(facts, compile(BootPolicy{}));
  ASSERT_EQ(claims.size(), 2u);
  EXPECT_EQ(claims[0].reason, BootReason::kSecureBootUnknown);
  EXPECT_EQ(claims[1].reason, BootReason::kSeparatorMissing);
  EXPECT_NE(claims[1].detail.find("PCR 7"), std::string::npos);
  facts.separators[7] = true;
  facts.error_separators = {4};
  EXPECT_EQ(evaluateBootPolicy(facts, compile(BootPolicy{}))[1].reason, BootReason::kSeparatorError);
}

TEST(BootPolicy, OverlongCmdlineIsNotEvaluableForRegex) {
  BootFacts facts;
  facts.kernel_cmdlines.push_back({std::string(100000, 'a'), "grub", 8, 3, true});
  BootPolicy p = relaxed();
  p.require_separators = false;
  p.cmdline_rules = {{CmdlineRule::Kind::kForbidRegex, "b+"}};
  auto claims = evaluateBootPolicy(facts, compile(p));
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_FALSE(claims[0].passed());
}

struct JsonCase {
  const char* json;
  bool ok;
};

TEST(BootPolicyJson, ParsesAndRejects) {
  const JsonCase cases[] = {
      {R"({})", true},
      {R"({"require_secure_boot": false, "digest_alg": "sha384"})", true},
      {R"({"allowed_boot_applications": ["ab"], "forbidden_digests": []})", true},
      {R"({"kernel_cmdline": {"require": ["a"], "forbid_regex": ["b+"]}})", true},
      {R"({"allowed_variables": {"dbx": ["00"]}})", true},
      {R"([])", false},
      {R"({"require_secure_boot": "yes"})", false},
      {R"({"digest_alg": "md5"})", false},
      {R"({"unknown": 1})", false},
      {R"({"kernel_cmdline": {"maybe": ["a"]}})", false},
      {R"({"kernel_cmdline": {"require": [1]}})", false},
      {R"({"allowed_variables": {"Boot0000": []}})", false},
      {R"({"forbidden_digests": "ab"})", false},
      {R"({not json)", false},
  };
  for (const auto& c : cases) {
    auto p = parseBootPolicyJson(c.json);
    EXPECT_EQ(p.has_value(), c.ok) << c.json;
    if (!p) {
      EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument) << c.json;
    }
  }
  auto p = parseBootPolicyJson(R"({"require_secure_boot": false, "kernel_cmdline": {"forbid": ["init="]}})");
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->require_secure_boot);
  ASSERT_EQ(p->cmdline_rules.size(), 1u);
  EXPECT_EQ(p->cmdline_rules[0].kind, CmdlineRule::Kind::kForbidSubstring);
}

TEST(BootPolicyCompile, RejectsBadRegexAndHex) {
  BootPolicy p;
  p.cmdline_rules = {{CmdlineRule::Kind::kRequireRegex, "("}};
  EXPECT_FALSE(compileBootPolicy(p).has_value());
  BootPolicy q;
  q.forbidden_digests = {"xyz"};
  EXPECT_FALSE(compileBootPolicy(q).has_value());
}

}  // namespace
}  // namespace bulwark::attest::eventlog
