// Findings against the baseline for filters built with libseccomp: permissive
// filters, argument conditions, stacked filters, architectures a filter does
// not check, and the seccomp modes.
#include "agent/inspect/seccomp/seccomp_findings.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <sys/mount.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/libseccomp_syscall_table.h"
#include "tests/unit/seccomp/libseccomp_fixture.h"

namespace bulwark::agent {
namespace {

using seccomp_test::ScmpContext;

const LibseccompSyscallTable& table() {
  static const LibseccompSyscallTable t;
  return t;
}

const SeccompBaseline& baseline() {
  static const SeccompBaseline b = [] {
    auto r = loadSeccompBaseline(seccomp_test::sourceDir() + "/profiles/seccomp/baseline-deny.json",
                                 table());
    EXPECT_TRUE(r.has_value()) << r.error().toString();
    return r.value_or(SeccompBaseline{});
  }();
  return b;
}

const std::vector<std::string> kX86Kernel = {"x86_64", "x86", "x32"};

int nr(const char* name) { return seccomp_syscall_resolve_name(name); }

BpfProgram exported(ScmpContext& ctx) {
  auto p = seccomp_test::exportProgram(ctx.ctx);
  EXPECT_TRUE(p.has_value()) << p.error().toString();
  return p.has_value() ? std::move(*p)
                       : *BpfProgram::fromInstructions({{BPF_RET | BPF_K, 0, 0, 0}});
}

// A filter for x86_64 + x86 + x32 built by `rules`.
template <typename Rules>
BpfProgram build(std::uint32_t default_action, Rules rules) {
  ScmpContext ctx(default_action);
  EXPECT_TRUE(seccomp_test::setArches(ctx.ctx, kX86Kernel).has_value());
  rules(ctx.ctx);
  return exported(ctx);
}

EffectivePolicy policyOf(const std::vector<BpfProgram>& chain,
                         const std::vector<std::string>& arches = kX86Kernel) {
  auto p = computeEffectivePolicy(chain, table(), arches);
  EXPECT_TRUE(p.has_value()) << p.error().toString();
  return p.value_or(EffectivePolicy{});
}

std::map<std::string, SeccompFinding> byControl(const std::vector<SeccompFinding>& fs) {
  std::map<std::string, SeccompFinding> out;
  for (const auto& f : fs) out.emplace(f.control, f);
  return out;
}

TEST(Findings, DisabledModeIsOneFinding) {
  auto fs = compareWithBaseline(SeccompMode::kDisabled, nullptr, baseline());
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].control, "seccomp-disabled");
  EXPECT_EQ(fs[0].severity, "high");
  EXPECT_EQ(fs[0].refs, baseline().refs);
}

TEST(Findings, StrictModeAllowsNoBaselineSyscall) {
  EXPECT_TRUE(compareWithBaseline(SeccompMode::kStrict, nullptr, baseline()).empty());
}

TEST(Findings, PermissiveFilterAllowsEveryBaselineSyscallItDoesNotDeny) {
  const BpfProgram f = build(SCMP_ACT_ALLOW, [](scmp_filter_ctx c) {
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_ERRNO(1), nr("kexec_load"), 0), 0);
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_KILL_PROCESS, nr("init_module"), 0), 0);
    // mount only with MS_BIND: allowed when (flags & MS_BIND) != 0.
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_ERRNO(1), nr("mount"), 1,
                               SCMP_A3(SCMP_CMP_MASKED_EQ, MS_BIND, 0)),
              0);
  });
  const EffectivePolicy policy = policyOf({f});
  const auto fs = byControl(compareWithBaseline(SeccompMode::kFilter, &policy, baseline()));
  std::set<std::string> want;
  for (const auto& e : baseline().deny) {
    if (e.syscall != "kexec_load" && e.syscall != "init_module") {
      want.insert("seccomp-allows:" + e.syscall);
    }
  }
  std::set<std::string> got;
  for (const auto& [k, v] : fs) got.insert(k);
  EXPECT_EQ(got, want);
  const SeccompFinding& mount = fs.at("seccomp-allows:mount");
  EXPECT_TRUE(mount.conditional);
  EXPECT_EQ(
      mount.condition,
      "x86_64: args[3] & 0x1000 != 0; x86: args[3] & 0x1000 != 0; x32: args[3] & 0x1000 != 0");
  EXPECT_EQ(mount.severity, "high");
  const SeccompFinding& bpf = fs.at("seccomp-allows:bpf");
  EXPECT_FALSE(bpf.conditional);
  EXPECT_EQ(bpf.arches, kX86Kernel);
  EXPECT_NE(bpf.detail.find("x86_64 (nr 321): SCMP_ACT_ALLOW"), std::string::npos) << bpf.detail;
}

TEST(Findings, StackedFiltersCombineAsTheKernel) {
  const BpfProgram older = build(SCMP_ACT_ALLOW, [](scmp_filter_ctx c) {
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_ERRNO(1), nr("ptrace"), 0), 0);
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_LOG, nr("mount"), 0), 0);
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_TRACE(3), nr("bpf"), 0), 0);
  });
  const BpfProgram newer = build(SCMP_ACT_ALLOW, [](scmp_filter_ctx c) {
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_ERRNO(2), nr("ptrace"), 0), 0);
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_KILL_PROCESS, nr("reboot"), 0), 0);
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_NOTIFY, nr("bpf"), 0), 0);
  });
  auto action = [](const EffectivePolicy& p, const char* s) {
    return p.find("x86_64")->find(s)->unconditionalAction()->name();
  };
  const EffectivePolicy chain = policyOf({older, newer});
  EXPECT_EQ(action(chain, "ptrace"), "SCMP_ACT_ERRNO(2)");  // tie: newest filter's errno
  EXPECT_EQ(action(chain, "reboot"), "SCMP_ACT_KILL_PROCESS");
  EXPECT_EQ(action(chain, "mount"), "SCMP_ACT_LOG");   // LOG beats the other filter's ALLOW
  EXPECT_EQ(action(chain, "bpf"), "SCMP_ACT_NOTIFY");  // USER_NOTIF beats TRACE
  EXPECT_EQ(action(policyOf({newer, older}), "ptrace"), "SCMP_ACT_ERRNO(1)");
  const auto fs = byControl(compareWithBaseline(SeccompMode::kFilter, &chain, baseline()));
  EXPECT_FALSE(fs.count("seccomp-allows:ptrace"));
  EXPECT_FALSE(fs.count("seccomp-allows:reboot"));
  ASSERT_TRUE(fs.count("seccomp-allows:mount"));
  EXPECT_FALSE(fs.at("seccomp-allows:mount").conditional);  // LOG executes the call
  ASSERT_TRUE(fs.count("seccomp-allows:bpf"));
  EXPECT_TRUE(fs.at("seccomp-allows:bpf").conditional);  // a supervisor decides
  EXPECT_NE(fs.at("seccomp-allows:bpf").condition.find("SCMP_ACT_NOTIFY"), std::string::npos);
}

TEST(Findings, FilterWithoutArchCheckLeavesCompatSyscallsOpen) {
  // Hand-written (as some runtimes did): denies x86_64's kexec_load by number
  // only, so the i386 numbering reaches other syscalls.
  auto f = BpfProgram::fromInstructions({
      {BPF_LD | BPF_W | BPF_ABS, 0, 0, 0},
      {BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 246},
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW},
      {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 1},
  });
  ASSERT_TRUE(f.has_value());
  const EffectivePolicy policy = policyOf({*f});
  const auto fs = byControl(compareWithBaseline(SeccompMode::kFilter, &policy, baseline()));
  ASSERT_TRUE(fs.count("seccomp-allows:kexec_load"));
  // x86 kexec_load is 283, x32's is 0x40000210: both allowed.
  EXPECT_EQ(fs.at("seccomp-allows:kexec_load").arches, (std::vector<std::string>{"x86", "x32"}));
}

TEST(Findings, ArchitecturesTheFilterDoesNotListAreKilledUniformly) {
  ScmpContext ctx(SCMP_ACT_ALLOW);
  ASSERT_TRUE(seccomp_test::setArches(ctx.ctx, {"x86_64"}).has_value());
  ASSERT_EQ(seccomp_attr_set(ctx.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), 0);
  ASSERT_EQ(seccomp_rule_add(ctx.ctx, SCMP_ACT_ERRNO(1), nr("reboot"), 0), 0);
  const BpfProgram f = exported(ctx);
  const EffectivePolicy policy = policyOf({f}, {"x86_64", "x86", "x32", "aarch64"});
  EXPECT_FALSE(policy.find("x86_64")->uniform);
  // x32 calls carry AUDIT_ARCH_X86_64 too; libseccomp's x86_64 section rejects
  // numbers with __X32_SYSCALL_BIT as a bad architecture.
  for (const char* arch : {"x86", "x32", "aarch64"}) {
    EXPECT_TRUE(policy.find(arch)->uniform) << arch;
    EXPECT_EQ(policy.find(arch)->default_action, "SCMP_ACT_KILL_PROCESS") << arch;
  }
  const auto fs = compareWithBaseline(SeccompMode::kFilter, &policy, baseline());
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs[0].arches, (std::vector<std::string>{"x86_64"}));
}

TEST(Findings, UnknownArchitectureIsAnError) {
  const std::vector<std::string> arches = {"vax"};
  auto p = computeEffectivePolicy({}, table(), arches);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Findings, NoFilterAllowsEverything) {
  const EffectivePolicy policy = policyOf({});
  EXPECT_EQ(compareWithBaseline(SeccompMode::kFilter, &policy, baseline()).size(),
            baseline().deny.size());
  EXPECT_TRUE(policy.find("x86_64")->uniform);
}

TEST(Summary, JsonCarriesNativeSetsAndEveryArch) {
  const BpfProgram f = build(SCMP_ACT_ERRNO(1), [](scmp_filter_ctx c) {
    for (const char* s : {"read", "write", "exit_group"}) {
      EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_ALLOW, nr(s), 0), 0);
    }
    EXPECT_EQ(seccomp_rule_add(c, SCMP_ACT_ALLOW, nr("ioctl"), 1, SCMP_A1(SCMP_CMP_EQ, 0x5401)), 0);
  });
  const EffectivePolicy policy = policyOf({f});
  const nlohmann::json j = seccompSummaryJson(SeccompMode::kFilter, 1, &policy);
  EXPECT_EQ(j["mode"], "filter");
  EXPECT_EQ(j["filters"], 1);
  EXPECT_EQ(j["arch"], "x86_64");
  EXPECT_EQ(j["default_action"], "SCMP_ACT_ERRNO(1)");
  EXPECT_EQ(j["allowed"], nlohmann::json({"read", "write", "exit_group"}));
  EXPECT_EQ(j["denied"].size() + 4, policy.find("x86_64")->syscalls.size());
  ASSERT_EQ(j["conditional"].size(), 1u);
  EXPECT_EQ(j["conditional"][0]["syscall"], "ioctl");
  EXPECT_EQ(j["conditional"][0]["cases"][1]["action"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(j["conditional"][0]["cases"][1]["when"], nlohmann::json({"args[1] == 0x5401"}));
  EXPECT_EQ(j["arches"].size(), 3u);
  EXPECT_EQ(seccompSummaryJson(SeccompMode::kDisabled, 0, nullptr),
            nlohmann::json({{"mode", "disabled"}, {"filters", 0}}));
}

}  // namespace
}  // namespace bulwark::agent
