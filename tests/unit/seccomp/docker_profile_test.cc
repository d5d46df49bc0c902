// Real filters: Docker's and containers-common's default profiles compiled to
// BPF with libseccomp exactly as moby + runc do (libseccomp_fixture.h), then
// evaluated. Expectations come from the JSON profile, not from the BPF.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/baseline.h"
#include "agent/inspect/seccomp/effective_policy.h"
#include "agent/inspect/seccomp/libseccomp_syscall_table.h"
#include "agent/inspect/seccomp/seccomp_findings.h"
#include "tests/unit/seccomp/libseccomp_fixture.h"

namespace bulwark::agent {
namespace {

using seccomp_test::CompiledProfile;
using seccomp_test::DockerHost;

const LibseccompSyscallTable& table() {
  static const LibseccompSyscallTable t;
  return t;
}

std::string profilePath(const char* file) {
  return seccomp_test::sourceDir() + "/tests/testdata/seccomp/" + file;
}

struct Compiled {
  CompiledProfile profile;
  EffectivePolicy policy;
};

std::optional<Compiled> compile(const char* file, const DockerHost& host = {}) {
  auto p = seccomp_test::compileDockerProfile(profilePath(file), host);
  EXPECT_TRUE(p.has_value()) << p.error().toString();
  if (!p) return std::nullopt;
  std::vector<BpfProgram> chain{p->program};
  auto policy = computeEffectivePolicy(chain, table(), p->arches);
  EXPECT_TRUE(policy.has_value()) << policy.error().toString();
  if (!policy) return std::nullopt;
  return Compiled{std::move(*p), std::move(*policy)};
}

// Checks every syscall of every arch the profile lists against the rules the
// profile applies: no rule -> default action; rules without arguments -> that
// action unconditionally; a rule with arguments -> conditional, every rule's
// action reachable and nothing else but the default.
void expectMatchesProfile(const Compiled& c, const std::vector<std::string>& want_arches) {
  ASSERT_EQ(c.policy.arches.size(), want_arches.size());
  for (std::size_t i = 0; i < want_arches.size(); ++i) {
    const ArchPolicy& ap = c.policy.arches[i];
    SCOPED_TRACE(ap.arch.name);
    EXPECT_EQ(ap.arch.name, want_arches[i]);
    EXPECT_EQ(ap.default_action, c.profile.default_action);
    EXPECT_FALSE(ap.uniform);
    ASSERT_GT(ap.syscalls.size(), 250u);
    std::size_t conditional = 0;
    for (const SyscallPolicy& s : ap.syscalls) {
      SCOPED_TRACE(s.name);
      ASSERT_TRUE(s.complete);
      auto it = c.profile.rules.find(s.name);
      if (it == c.profile.rules.end()) {
        ASSERT_FALSE(s.conditional());
        EXPECT_EQ(s.cases.front().label, c.profile.default_action);
        continue;
      }
      bool has_args = false;
      std::set<std::string> rule_actions;
      for (const auto& r : it->second) {
        has_args |= r.has_args;
        rule_actions.insert(r.action);
      }
      if (!has_args) {
        ASSERT_FALSE(s.conditional());
        EXPECT_EQ(s.cases.front().label, it->second.front().action);
        continue;
      }
      ++conditional;
      ASSERT_TRUE(s.conditional());
      // Every rule's action is reachable; nothing but those and the default is.
      std::set<std::string> got;
      for (const auto& cs : s.cases) got.insert(cs.label);
      std::set<std::string> allowed = rule_actions;
      allowed.insert(c.profile.default_action);
      EXPECT_TRUE(std::includes(got.begin(), got.end(), rule_actions.begin(), rule_actions.end()));
      EXPECT_TRUE(std::includes(allowed.begin(), allowed.end(), got.begin(), got.end()));
    }
    EXPECT_GE(conditional, 2u);  // at least clone and personality
  }
}

std::string when(const SyscallPolicy& s, const std::string& label) {
  for (const auto& c : s.cases) {
    if (c.label == label) {
      std::vector<std::string> sorted = c.when;
      std::sort(sorted.begin(), sorted.end());
      std::string out;
      for (const auto& w : sorted) out += (out.empty() ? "" : " | ") + w;
      return out;
    }
  }
  return "<no case " + label + ">";
}

TEST(DockerDefault, EffectivePolicyMatchesTheProfileOnX86_64X86AndX32) {
  auto c = compile("docker-default.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->profile.arches, (std::vector<std::string>{"x86_64", "x86", "x32"}));
  expectMatchesProfile(*c, {"x86_64", "x86", "x32"});
}

TEST(DockerDefault, ArgumentRulesAreConditionalWithReadableConditions) {
  auto c = compile("docker-default.json");
  ASSERT_TRUE(c);
  const ArchPolicy* x64 = c->policy.find("x86_64");
  ASSERT_NE(x64, nullptr);
  const SyscallPolicy* clone = x64->find("clone");
  ASSERT_NE(clone, nullptr);
  EXPECT_TRUE(clone->conditional());
  EXPECT_EQ(when(*clone, "SCMP_ACT_ALLOW"), "args[0] & 0x7e020000 == 0");
  EXPECT_EQ(when(*clone, "SCMP_ACT_ERRNO(1)"), "args[0] & 0x7e020000 != 0");
  EXPECT_EQ(clone->runCondition(), "args[0] & 0x7e020000 == 0");
  const SyscallPolicy* personality = x64->find("personality");
  ASSERT_NE(personality, nullptr);
  EXPECT_EQ(when(*personality, "SCMP_ACT_ALLOW"),
            "args[0] == 0 | args[0] == 0x20000 | args[0] == 0x20008 | args[0] == 0xffffffff | "
            "args[0] == 8");
  const SyscallPolicy* socket = x64->find("socket");
  ASSERT_NE(socket, nullptr);
  EXPECT_EQ(when(*socket, "SCMP_ACT_ERRNO(1)"), "args[0] in {38, 40}");
  // i386: arguments are 32-bit, libseccomp tests one word, the condition names the argument.
  const SyscallPolicy* socket32 = c->policy.find("x86")->find("socket");
  ASSERT_NE(socket32, nullptr);
  EXPECT_EQ(when(*socket32, "SCMP_ACT_ALLOW"), "args[0] <= 37 | args[0] == 39 | args[0] >= 41");
  // clone3 is answered with ENOSYS so that libc falls back to clone.
  const SyscallPolicy* clone3 = x64->find("clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->unconditionalAction()->name(), "SCMP_ACT_ERRNO(38)");
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

// Baseline syscalls the profile allows (by its rules): the findings oracle.
std::set<std::string> allowedByRules(const CompiledProfile& p) {
  std::set<std::string> out;
  for (const auto& e : baseline().deny) {
    auto it = p.rules.find(e.syscall);
    if (it == p.rules.end()) continue;
    for (const auto& r : it->second) {
      if (r.action == "SCMP_ACT_ALLOW") out.insert(e.syscall);
    }
  }
  return out;
}

std::set<std::string> findingControls(const std::vector<SeccompFinding>& fs) {
  std::set<std::string> out;
  for (const auto& f : fs) out.insert(f.control);
  return out;
}

TEST(DockerDefault, DeniesTheBaselineExceptPtraceOnModernKernels) {
  auto c = compile("docker-default.json");
  ASSERT_TRUE(c);
  auto findings = compareWithBaseline(SeccompMode::kFilter, &c->policy, baseline());
  // Docker allows ptrace from kernel 4.8 on (its seccomp bypass was fixed there).
  EXPECT_EQ(findingControls(findings), (std::set<std::string>{"seccomp-allows:ptrace"}));
  EXPECT_EQ(allowedByRules(c->profile), (std::set<std::string>{"ptrace"}));
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_FALSE(findings[0].conditional);
  EXPECT_EQ(findings[0].arches, (std::vector<std::string>{"x86_64", "x86", "x32"}));
  EXPECT_NE(findings[0].detail.find("x86_64 (nr 101): SCMP_ACT_ALLOW"), std::string::npos);
  for (const char* denied : {"kexec_load", "init_module", "mount", "bpf", "unshare", "keyctl"}) {
    for (const ArchPolicy& ap : c->policy.arches) {
      const SyscallPolicy* s = ap.find(denied);
      if (s == nullptr) continue;  // not on this ABI
      EXPECT_FALSE(s->mayRun()) << denied << " on " << ap.arch.name;
    }
  }
}

TEST(DockerDefault, OldKernelDropsPtraceAndSysAdminOpensMountAndNamespaces) {
  DockerHost old_kernel;
  old_kernel.kernel_major = 4;
  old_kernel.kernel_minor = 4;
  auto c = compile("docker-default.json", old_kernel);
  ASSERT_TRUE(c);
  EXPECT_TRUE(compareWithBaseline(SeccompMode::kFilter, &c->policy, baseline()).empty());

  DockerHost sys_admin;
  sys_admin.caps.insert("CAP_SYS_ADMIN");
  auto a = compile("docker-default.json", sys_admin);
  ASSERT_TRUE(a);
  const auto controls =
      findingControls(compareWithBaseline(SeccompMode::kFilter, &a->policy, baseline()));
  std::set<std::string> want;
  for (const auto& s : allowedByRules(a->profile)) want.insert("seccomp-allows:" + s);
  EXPECT_EQ(controls, want);
  for (const char* s : {"mount", "umount2", "unshare", "setns", "bpf", "perf_event_open"}) {
    EXPECT_TRUE(controls.count(std::string("seccomp-allows:") + s)) << s;
  }
  EXPECT_FALSE(controls.count("seccomp-allows:kexec_load"));
  // CAP_SYS_ADMIN also lifts the clone flag restriction: clone is unconditional.
  EXPECT_FALSE(a->policy.find("x86_64")->find("clone")->conditional());
}

TEST(DockerDefault, Aarch64AndArmFiltersEvaluateOnAnyHost) {
  DockerHost arm;
  arm.native_arch = "SCMP_ARCH_AARCH64";
  arm.go_arch = "arm64";
  auto c = compile("docker-default.json", arm);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->profile.arches, (std::vector<std::string>{"aarch64", "arm"}));
  expectMatchesProfile(*c, {"aarch64", "arm"});
  // arm-only rules (includes.arches arm/arm64) took effect.
  EXPECT_EQ(c->policy.find("arm")->find("breakpoint")->unconditionalAction()->name(),
            "SCMP_ACT_ALLOW");
}

TEST(ContainersCommonDefault, EffectivePolicyMatchesTheProfile) {
  auto c = compile("containers-common-default.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->profile.default_action, "SCMP_ACT_ERRNO(38)");
  expectMatchesProfile(*c, {"x86_64", "x86", "x32"});
  const auto controls =
      findingControls(compareWithBaseline(SeccompMode::kFilter, &c->policy, baseline()));
  std::set<std::string> want;
  for (const auto& s : allowedByRules(c->profile)) want.insert("seccomp-allows:" + s);
  EXPECT_EQ(controls, want);
}

}  // namespace
}  // namespace bulwark::agent
