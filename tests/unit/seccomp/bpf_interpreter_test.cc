// Concrete evaluation, one table row per opcode behaviour, and the kernel's
// chain combination (kernel/seccomp.c seccomp_run_filters).
#include "agent/inspect/seccomp/bpf_interpreter.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <string>
#include <vector>

namespace bulwark::agent {
namespace {

BpfInstruction stmt(std::uint16_t code, std::uint32_t k) { return {code, 0, 0, k}; }
BpfInstruction jmp(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return {code, jt, jf, k};
}

BpfProgram program(std::vector<BpfInstruction> insns) {
  auto p = BpfProgram::fromInstructions(std::move(insns));
  EXPECT_TRUE(p.has_value()) << p.error().toString();
  return p.has_value() ? std::move(*p)
                       : *BpfProgram::fromInstructions({stmt(BPF_RET | BPF_K, 0xdeadbeef)});
}

SeccompData sample() {
  SeccompData d;
  d.nr = 59;
  d.arch = AUDIT_ARCH_X86_64;
  d.instruction_pointer = 0x1122334455667788ull;
  for (int i = 0; i < 6; ++i) d.args[i] = (0xa0ull + i) << 32 | (0x10u + i);
  return d;
}

struct Row {
  const char* name;
  std::vector<BpfInstruction> body;  // leaves its result in A; "ret a" is appended
  std::uint32_t want;
};

class Evaluates : public ::testing::TestWithParam<Row> {};

TEST_P(Evaluates, ToTheKernelResult) {
  std::vector<BpfInstruction> p = GetParam().body;
  p.push_back(stmt(BPF_RET | BPF_A, 0));
  EXPECT_EQ(runFilter(program(p), sample(), /*big_endian=*/false).raw(), GetParam().want);
}

constexpr std::uint16_t kLdAbs = BPF_LD | BPF_W | BPF_ABS;
constexpr std::uint16_t kLdImm = BPF_LD | BPF_IMM;
constexpr std::uint16_t kLdxImm = BPF_LDX | BPF_IMM;
constexpr std::uint16_t kAluK = BPF_ALU | BPF_K;
constexpr std::uint16_t kAluX = BPF_ALU | BPF_X;

Row alu(const char* name, std::uint16_t op, std::uint32_t a, std::uint32_t b, std::uint32_t want,
        bool use_x) {
  if (use_x) {
    return {name, {stmt(kLdImm, a), stmt(kLdxImm, b), stmt(kAluX | op, 0)}, want};
  }
  return {name, {stmt(kLdImm, a), stmt(kAluK | op, b)}, want};
}

INSTANTIATE_TEST_SUITE_P(
    Loads, Evaluates,
    ::testing::Values(
        Row{"nr", {stmt(kLdAbs, 0)}, 59}, Row{"arch", {stmt(kLdAbs, 4)}, 0xc000003e},
        Row{"ip_low", {stmt(kLdAbs, 8)}, 0x55667788},
        Row{"ip_high", {stmt(kLdAbs, 12)}, 0x11223344}, Row{"arg0_low", {stmt(kLdAbs, 16)}, 0x10},
        Row{"arg0_high", {stmt(kLdAbs, 20)}, 0xa0}, Row{"arg5_low", {stmt(kLdAbs, 56)}, 0x15},
        Row{"arg5_high", {stmt(kLdAbs, 60)}, 0xa5},
        Row{"len", {stmt(BPF_LD | BPF_W | BPF_LEN, 0)}, 64},
        Row{"ldx_len", {stmt(BPF_LDX | BPF_W | BPF_LEN, 0), stmt(BPF_MISC | BPF_TXA, 0)}, 64},
        Row{"imm", {stmt(kLdImm, 0xcafe)}, 0xcafe},
        Row{"st_ld_mem",
            {stmt(kLdImm, 5), stmt(BPF_ST, 9), stmt(kLdImm, 0), stmt(BPF_LD | BPF_MEM, 9)},
            5},
        Row{"stx_ldx_mem",
            {stmt(kLdxImm, 6), stmt(BPF_STX, 15), stmt(kLdxImm, 0), stmt(BPF_LDX | BPF_MEM, 15),
             stmt(BPF_MISC | BPF_TXA, 0)},
            6},
        Row{"tax_txa",
            {stmt(kLdImm, 77), stmt(BPF_MISC | BPF_TAX, 0), stmt(kLdImm, 0),
             stmt(BPF_MISC | BPF_TXA, 0)},
            77},
        Row{"a_and_x_start_zero", {stmt(BPF_MISC | BPF_TXA, 0)}, 0}),
    [](const auto& p) { return std::string(p.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Alu, Evaluates,
    ::testing::Values(
        alu("add_k", BPF_ADD, 5, 3, 8, false), alu("add_x_wraps", BPF_ADD, 0xffffffff, 2, 1, true),
        alu("sub_k_wraps", BPF_SUB, 1, 2, 0xffffffff, false), alu("sub_x", BPF_SUB, 9, 4, 5, true),
        alu("mul_k", BPF_MUL, 0x10000, 0x10000, 0, false), alu("mul_x", BPF_MUL, 6, 7, 42, true),
        alu("div_k", BPF_DIV, 100, 7, 14, false), alu("div_x", BPF_DIV, 100, 10, 10, true),
        alu("mod_k", BPF_MOD, 100, 7, 2, false), alu("mod_x", BPF_MOD, 100, 9, 1, true),
        alu("and_k", BPF_AND, 0xf0f0, 0xff00, 0xf000, false), alu("and_x", BPF_AND, 6, 3, 2, true),
        alu("or_k", BPF_OR, 0xf000, 0x000f, 0xf00f, false), alu("or_x", BPF_OR, 1, 2, 3, true),
        alu("xor_k", BPF_XOR, 0xff, 0x0f, 0xf0, false), alu("xor_x", BPF_XOR, 5, 5, 0, true),
        alu("lsh_k", BPF_LSH, 1, 31, 0x80000000, false), alu("lsh_x", BPF_LSH, 3, 4, 48, true),
        alu("lsh_x_count_mod_32", BPF_LSH, 3, 33, 6, true),
        alu("rsh_k", BPF_RSH, 0x80000000, 31, 1, false), alu("rsh_x", BPF_RSH, 48, 4, 3, true),
        Row{"neg", {stmt(kLdImm, 1), stmt(BPF_ALU | BPF_NEG, 0)}, 0xffffffff},
        // cBPF: division or modulo by a zero X ends the program with 0.
        Row{"div_x_zero_returns_0",
            {stmt(kLdImm, 5), stmt(kLdxImm, 0), stmt(kAluX | BPF_DIV, 0), stmt(kLdImm, 9)},
            0},
        Row{"mod_x_zero_returns_0",
            {stmt(kLdImm, 5), stmt(kLdxImm, 0), stmt(kAluX | BPF_MOD, 0), stmt(kLdImm, 9)},
            0}),
    [](const auto& p) { return std::string(p.param.name); });

// Jump rows: A = 10, X = 20; the taken branch loads 1, the other 2.
Row branch(const char* name, std::uint16_t op, bool use_x, std::uint32_t k, std::uint32_t want) {
  return {
      name,
      {stmt(kLdImm, 10), stmt(kLdxImm, 20), jmp(BPF_JMP | op | (use_x ? BPF_X : BPF_K), k, 0, 2),
       stmt(kLdImm, 1), stmt(BPF_JMP | BPF_JA, 1), stmt(kLdImm, 2)},
      want};
}

INSTANTIATE_TEST_SUITE_P(
    Jumps, Evaluates,
    ::testing::Values(
        branch("jeq_k_taken", BPF_JEQ, false, 10, 1), branch("jeq_k_not", BPF_JEQ, false, 11, 2),
        branch("jeq_x_not", BPF_JEQ, true, 0, 2), branch("jgt_k_taken", BPF_JGT, false, 9, 1),
        branch("jgt_k_equal_not", BPF_JGT, false, 10, 2), branch("jgt_x_not", BPF_JGT, true, 0, 2),
        branch("jge_k_equal_taken", BPF_JGE, false, 10, 1),
        branch("jge_k_not", BPF_JGE, false, 11, 2), branch("jge_x_not", BPF_JGE, true, 0, 2),
        branch("jset_k_taken", BPF_JSET, false, 2, 1), branch("jset_k_not", BPF_JSET, false, 5, 2),
        branch("jset_x_not", BPF_JSET, true, 0, 2),
        Row{"ja_skips", {stmt(kLdImm, 1), stmt(BPF_JMP | BPF_JA, 1), stmt(kLdImm, 2)}, 1},
        Row{"jgt_unsigned",
            {stmt(kLdImm, 0x80000000), jmp(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 1), stmt(kLdImm, 7)},
            7}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Evaluate, BigEndianKernelSwapsHalvesOf64BitFields) {
  auto p = program({stmt(kLdAbs, 16), stmt(BPF_RET | BPF_A, 0)});
  EXPECT_EQ(runFilter(p, sample(), /*big_endian=*/true).raw(), 0xa0u);
  EXPECT_EQ(runFilter(p, sample(), /*big_endian=*/false).raw(), 0x10u);
}

BpfProgram returns(std::uint32_t v) { return program({stmt(BPF_RET | BPF_K, v)}); }

struct ChainRow {
  const char* name;
  std::vector<std::uint32_t> installed;  // installation order
  std::uint32_t want;
};

class Chain : public ::testing::TestWithParam<ChainRow> {};

TEST_P(Chain, CombinesAsTheKernel) {
  std::vector<BpfProgram> chain;
  for (std::uint32_t v : GetParam().installed) chain.push_back(returns(v));
  EXPECT_EQ(runFilterChain(chain, sample()).raw(), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Precedence, Chain,
    ::testing::Values(
        ChainRow{"empty_allows", {}, SECCOMP_RET_ALLOW},
        ChainRow{"kill_process_beats_all",
                 {SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD},
                 SECCOMP_RET_KILL_PROCESS},
        ChainRow{"kill_thread_beats_trap",
                 {SECCOMP_RET_TRAP, SECCOMP_RET_KILL_THREAD},
                 SECCOMP_RET_KILL_THREAD},
        ChainRow{"trap_beats_errno", {SECCOMP_RET_ERRNO | 1, SECCOMP_RET_TRAP}, SECCOMP_RET_TRAP},
        ChainRow{"errno_beats_notify",
                 {SECCOMP_RET_USER_NOTIF, SECCOMP_RET_ERRNO | 13},
                 SECCOMP_RET_ERRNO | 13},
        ChainRow{"notify_beats_trace",
                 {SECCOMP_RET_TRACE | 3, SECCOMP_RET_USER_NOTIF},
                 SECCOMP_RET_USER_NOTIF},
        ChainRow{
            "trace_beats_log", {SECCOMP_RET_LOG, SECCOMP_RET_TRACE | 3}, SECCOMP_RET_TRACE | 3},
        ChainRow{"log_beats_allow", {SECCOMP_RET_ALLOW, SECCOMP_RET_LOG}, SECCOMP_RET_LOG},
        // Equal actions: the newest filter (run first) keeps its data.
        ChainRow{"tie_newest_errno_wins",
                 {SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 2},
                 SECCOMP_RET_ERRNO | 2},
        ChainRow{"tie_newest_trace_wins",
                 {SECCOMP_RET_TRACE | 9, SECCOMP_RET_TRACE | 4},
                 SECCOMP_RET_TRACE | 4},
        // ALLOW never replaces the initial SECCOMP_RET_ALLOW, whatever its data.
        ChainRow{"allow_data_dropped", {SECCOMP_RET_ALLOW | 5}, SECCOMP_RET_ALLOW},
        // Undefined actions order by their signed value (and kill when they win).
        ChainRow{
            "unknown_action_between_kill_and_trap", {SECCOMP_RET_TRAP, 0x00010000}, 0x00010000}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace bulwark::agent
