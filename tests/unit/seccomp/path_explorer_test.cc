// The symbolic explorer against the concrete interpreter: for real filters and
// for hand-written programs that use every symbolic feature, every concrete
// input satisfies exactly one explored path, and that path's action is what
// runFilterChain() computes.
#include "agent/inspect/seccomp/path_explorer.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <random>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/effective_policy.h"
#include "agent/inspect/seccomp/libseccomp_syscall_table.h"
#include "tests/unit/seccomp/libseccomp_fixture.h"

namespace bulwark::agent {
namespace {

using seccomp_test::ScmpContext;

const LibseccompSyscallTable& table() {
  static const LibseccompSyscallTable t;
  return t;
}

constexpr std::uint64_t kInteresting[] = {0,
                                          1,
                                          7,
                                          8,
                                          37,
                                          38,
                                          39,
                                          40,
                                          41,
                                          0x1000,
                                          0x20000,
                                          0x20008,
                                          0x7e020000,
                                          0x7fffffff,
                                          0xffffffff,
                                          0x100000000ull,
                                          0x100000008ull,
                                          0xffffffff00000000ull,
                                          ~0ull};

std::vector<SeccompData> samples(std::uint32_t arch, std::uint32_t nr, std::mt19937_64& rng) {
  std::vector<SeccompData> out;
  auto pick = [&]() -> std::uint64_t {
    switch (rng() % 4) {
      case 0:
        return rng();
      case 1:
        return rng() & 0xffffffffu;
      default:
        return kInteresting[rng() % std::size(kInteresting)];
    }
  };
  for (std::uint64_t v : kInteresting) {  // each interesting value in every argument
    SeccompData d{nr, arch, v, {v, v, v, v, v, v}};
    out.push_back(d);
  }
  for (int i = 0; i < 64; ++i) {
    SeccompData d{nr, arch, pick(), {}};
    for (auto& a : d.args) a = pick();
    out.push_back(d);
  }
  return out;
}

// Exactly one path holds for every sample, with the concrete action.
void crossCheck(const std::vector<BpfProgram>& chain, std::uint32_t arch, std::uint32_t nr,
                bool args_32bit, std::mt19937_64& rng, const ExploreLimits& limits = {}) {
  const Exploration ex =
      exploreChain(chain, arch, nr, FieldNaming{kHostBigEndian, args_32bit}, limits);
  ASSERT_TRUE(ex.complete);
  for (const SeccompData& d : samples(arch, nr, rng)) {
    const SeccompAction concrete = runFilterChain(chain, d);
    int holding = 0;
    for (const PathOutcome& p : ex.paths) {
      bool all = true;
      for (const Constraint& c : p.constraints) all = all && c.holds(d, kHostBigEndian);
      if (!all) continue;
      ++holding;
      if (p.action) {
        EXPECT_EQ(p.action->raw(), concrete.raw()) << "nr " << nr << " arg0 " << d.args[0];
      } else {
        ADD_FAILURE() << "undetermined path in a libseccomp filter";
      }
    }
    EXPECT_EQ(holding, 1) << "nr " << nr << " args[0]=" << d.args[0] << " args[1]=" << d.args[1];
  }
}

BpfProgram dockerFilter() {
  auto p = seccomp_test::compileDockerProfile(
      seccomp_test::sourceDir() + "/tests/testdata/seccomp/docker-default.json", {});
  EXPECT_TRUE(p.has_value()) << p.error().toString();
  return std::move(p->program);
}

TEST(Explorer, DockerFilterPathsAgreeWithConcreteRunsForEverySyscall) {
  const std::vector<BpfProgram> chain{dockerFilter()};
  std::mt19937_64 rng(42);
  for (const char* arch_name : {"x86_64", "x86", "x32"}) {
    const ArchInfo* arch = table().findArch(arch_name);
    ASSERT_NE(arch, nullptr);
    for (const SyscallInfo& s : table().syscalls(arch->token)) {
      crossCheck(chain, arch->audit_arch, s.nr, arch->args_are_32bit, rng);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// Every libseccomp comparison on 64-bit values, stacked under a second filter.
TEST(Explorer, EveryLibseccompComparisonAgreesIncludingStackedFilters) {
  ScmpContext a(SCMP_ACT_ALLOW);
  const int ioctl = seccomp_syscall_resolve_name("ioctl");
  const scmp_arg_cmp rules[] = {SCMP_A0(SCMP_CMP_NE, 0x100000008ull),
                                SCMP_A1(SCMP_CMP_LT, 0x100000000ull),
                                SCMP_A2(SCMP_CMP_LE, 40),
                                SCMP_A3(SCMP_CMP_GE, 0x7e020000),
                                SCMP_A4(SCMP_CMP_GT, 0xffffffff00000000ull),
                                SCMP_A5(SCMP_CMP_MASKED_EQ, 0xff0000000000ff00ull, 0x100)};
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(seccomp_rule_add(a.ctx, SCMP_ACT_ERRNO(10 + i), ioctl, 1, rules[i]), 0) << i;
  }
  ScmpContext b(SCMP_ACT_ALLOW);
  ASSERT_EQ(seccomp_rule_add(b.ctx, SCMP_ACT_TRAP, ioctl, 1, SCMP_A0(SCMP_CMP_EQ, 7)), 0);
  std::vector<BpfProgram> chain;
  chain.push_back(*seccomp_test::exportProgram(a.ctx));
  chain.push_back(*seccomp_test::exportProgram(b.ctx));
  std::mt19937_64 rng(7);
  crossCheck(chain, AUDIT_ARCH_X86_64, static_cast<std::uint32_t>(ioctl), false, rng);
  crossCheck({chain[0]}, AUDIT_ARCH_X86_64, static_cast<std::uint32_t>(ioctl), false, rng);
}

TEST(Explorer, ConditionsFoldSplit64BitComparisons) {
  ScmpContext a(SCMP_ACT_ERRNO(1));
  const int nr = seccomp_syscall_resolve_name("ioctl");
  ASSERT_EQ(seccomp_rule_add(a.ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_EQ, 0x100000005ull)),
            0);
  ASSERT_EQ(seccomp_rule_add(a.ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_GT, 37)), 0);
  std::vector<BpfProgram> chain{*seccomp_test::exportProgram(a.ctx)};
  const SyscallPolicy p =
      evaluateSyscall(chain, *table().findArch("x86_64"), static_cast<std::uint32_t>(nr));
  ASSERT_EQ(p.cases.size(), 2u);
  EXPECT_EQ(p.cases[1].label, "SCMP_ACT_ALLOW");
  std::vector<std::string> when = p.cases[1].when;
  std::sort(when.begin(), when.end());
  // "> 37" on a 64-bit value is two paths: high word above 0, or zero and low word above 37.
  std::vector<std::string> want = {"args[1] == 0x100000005", "args[2] > 0xffffffff",
                                   "args[2] >= 38 && args[2] <= 0xffffffff"};
  for (const auto& w : want) {
    bool found = false;
    for (const auto& got : when) found |= got.find(w) != std::string::npos;
    EXPECT_TRUE(found) << w << " in " << ::testing::PrintToString(when);
  }
}

BpfProgram hand(std::vector<BpfInstruction> insns) {
  auto p = BpfProgram::fromInstructions(std::move(insns));
  EXPECT_TRUE(p.has_value()) << p.error().toString();
  return std::move(*p);
}

std::span<const BpfProgram> one(const BpfProgram& p) { return {&p, 1}; }

constexpr std::uint16_t kLd = BPF_LD | BPF_W | BPF_ABS;

// Features libseccomp never emits but a hand-written filter may.
TEST(Explorer, HandWrittenFiltersWithAluScratchAndXComparisonsAgree) {
  std::mt19937_64 rng(3);
  const std::vector<BpfProgram> programs = {
      // (args[0] + 3) << 2 == 0x40 -> ERRNO(1)
      hand({{kLd, 0, 0, 16},
            {BPF_ALU | BPF_ADD | BPF_K, 0, 0, 3},
            {BPF_ALU | BPF_LSH | BPF_K, 0, 0, 2},
            {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x40},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 1},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}}),
      // lo32(args[0]) > lo32(args[1]) via X, through scratch memory
      hand({{kLd, 0, 0, 24},
            {BPF_ST, 0, 0, 4},
            {BPF_LDX | BPF_MEM, 0, 0, 4},
            {kLd, 0, 0, 16},
            {BPF_JMP | BPF_JGT | BPF_X, 0, 1, 0},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}}),
      // jset with X = args[2], and the instruction pointer
      hand({{kLd, 0, 0, 32},
            {BPF_MISC | BPF_TAX, 0, 0, 0},
            {kLd, 0, 0, 8},
            {BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_LOG},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 3}}),
      // 100 / args[3]: zero divisor ends the filter with 0 (KILL_THREAD)
      hand({{kLd, 0, 0, 40},
            {BPF_MISC | BPF_TAX, 0, 0, 0},
            {BPF_LD | BPF_IMM, 0, 0, 100},
            {BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0},
            {BPF_JMP | BPF_JGE | BPF_K, 0, 1, 10},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 4}}),
      // the same word tested twice: the second test must not fork again
      hand({{kLd, 0, 0, 16},
            {BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 5},
            {kLd, 0, 0, 16},
            {BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 5},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS},
            {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}}),
  };
  for (std::size_t i = 0; i < programs.size(); ++i) {
    SCOPED_TRACE(i);
    crossCheck({programs[i]}, AUDIT_ARCH_X86_64, 1, false, rng);
  }
  const Exploration twice = exploreChain(one(programs[4]), AUDIT_ARCH_X86_64, 1, FieldNaming{});
  EXPECT_EQ(twice.paths.size(), 2u);  // == 5 -> ALLOW, != 5 -> ALLOW; KILL is unreachable
  for (const auto& p : twice.paths) EXPECT_EQ(p.action->name(), "SCMP_ACT_ALLOW");
  const SyscallPolicy div = evaluateSyscall(one(programs[3]), *table().findArch("x86_64"), 1);
  EXPECT_EQ(div.cases.front().label, "SCMP_ACT_KILL_THREAD");
  EXPECT_EQ(div.cases.front().when, std::vector<std::string>{"lo32(args[3]) == 0"});
  const SyscallPolicy cmp = evaluateSyscall(one(programs[1]), *table().findArch("x86_64"), 1);
  EXPECT_EQ(cmp.cases.front().when, std::vector<std::string>{"lo32(args[0]) > lo32(args[1])"});
}

TEST(Explorer, ReturnValueComputedFromArgumentsIsUndeterminedAndMayRun) {
  const BpfProgram p = hand({{kLd, 0, 0, 16}, {BPF_RET | BPF_A, 0, 0, 0}});
  const SyscallPolicy s = evaluateSyscall(one(p), *table().findArch("x86_64"), 0);
  ASSERT_EQ(s.cases.size(), 1u);
  EXPECT_FALSE(s.cases[0].action.has_value());
  EXPECT_EQ(s.cases[0].label, "RET lo32(args[0])");
  EXPECT_TRUE(s.mayRun());
  EXPECT_TRUE(s.reads_arguments);
}

TEST(Explorer, PathExplosionIsBoundedAndReportedIncomplete) {
  // 24 independent bit tests on args[0] double the paths 24 times.
  std::vector<BpfInstruction> insns = {{kLd, 0, 0, 16}};
  for (int bit = 0; bit < 24; ++bit) {
    insns.push_back({BPF_JMP | BPF_JSET | BPF_K, 0, 0, 1u << bit});
  }
  insns.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 1});
  const BpfProgram p = hand(insns);
  const ExploreLimits limits{256, 1u << 16};
  const Exploration ex = exploreChain(one(p), AUDIT_ARCH_X86_64, 0, FieldNaming{}, limits);
  EXPECT_FALSE(ex.complete);
  EXPECT_LE(ex.paths.size(), 256u);
  const SyscallPolicy s = evaluateSyscall(one(p), *table().findArch("x86_64"), 0, limits);
  EXPECT_TRUE(s.conditional());
  EXPECT_TRUE(s.mayRun());  // fail closed: unexplored paths might allow
  EXPECT_NE(s.runCondition().find("not enumerated"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::agent
