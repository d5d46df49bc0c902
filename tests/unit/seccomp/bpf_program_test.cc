// Load-time validation: every rule the kernel applies (bpf_check_classic,
// check_load_and_stores, seccomp_check_filter) rejects a malformed program with
// a clear kMalformed error naming the instruction.
#include "agent/inspect/seccomp/bpf_program.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace bulwark::agent {
namespace {

BpfInstruction stmt(std::uint16_t code, std::uint32_t k) { return {code, 0, 0, k}; }
BpfInstruction jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return {code, jt, jf, k};
}
const BpfInstruction kRetAllow = stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

struct Rejected {
  const char* name;
  std::vector<BpfInstruction> program;
  const char* message;  // substring of the error
};

class RejectsMalformed : public ::testing::TestWithParam<Rejected> {};

TEST_P(RejectsMalformed, WithClearError) {
  const Rejected& c = GetParam();
  auto r = BpfProgram::fromInstructions(c.program);
  ASSERT_FALSE(r.has_value()) << c.name;
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  EXPECT_NE(r.error().message().find(c.message), std::string::npos)
      << c.name << ": " << r.error().toString();
}

std::vector<BpfInstruction> tooLong() {
  std::vector<BpfInstruction> p(kBpfMaxInstructions + 1, stmt(BPF_LD | BPF_IMM, 0));
  p.back() = kRetAllow;
  return p;
}

INSTANTIATE_TEST_SUITE_P(
    Kernel, RejectsMalformed,
    ::testing::Values(
        Rejected{"empty", {}, "empty"}, Rejected{"too_long", tooLong(), "limit is 4096"},
        Rejected{"no_ret_at_end", {stmt(BPF_LD | BPF_W | BPF_ABS, 0)}, "last instruction"},
        Rejected{"unknown_opcode", {stmt(0xffff, 0), kRetAllow}, "not allowed"},
        Rejected{"ret_x", {stmt(BPF_RET | BPF_X, 0), kRetAllow}, "not allowed"},
        Rejected{"ld_half_abs", {stmt(BPF_LD | BPF_H | BPF_ABS, 0), kRetAllow}, "not allowed"},
        Rejected{"ld_byte_abs", {stmt(BPF_LD | BPF_B | BPF_ABS, 0), kRetAllow}, "not allowed"},
        Rejected{"ld_ind", {stmt(BPF_LD | BPF_W | BPF_IND, 0), kRetAllow}, "not allowed"},
        Rejected{"ldx_msh", {stmt(BPF_LDX | BPF_B | BPF_MSH, 0), kRetAllow}, "not allowed"},
        Rejected{"unaligned_load", {stmt(BPF_LD | BPF_W | BPF_ABS, 2), kRetAllow}, "unaligned"},
        Rejected{"load_past_seccomp_data",
                 {stmt(BPF_LD | BPF_W | BPF_ABS, 64), kRetAllow},
                 "beyond struct seccomp_data"},
        Rejected{"ancillary_load",
                 {stmt(BPF_LD | BPF_W | BPF_ABS, 0xfffff000u), kRetAllow},
                 "beyond struct seccomp_data"},
        Rejected{"jump_out_of_range",
                 {jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), kRetAllow},
                 "jump target out of range"},
        Rejected{"false_branch_out_of_range",
                 {jump(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), kRetAllow},
                 "jump target out of range"},
        Rejected{
            "ja_out_of_range", {stmt(BPF_JMP | BPF_JA, 1), kRetAllow}, "jump target out of range"},
        Rejected{"ja_huge_k_would_loop",
                 {stmt(BPF_JMP | BPF_JA, 0xffffffffu), kRetAllow},
                 "jump target out of range"},
        Rejected{"div_by_constant_zero",
                 {stmt(BPF_ALU | BPF_DIV | BPF_K, 0), kRetAllow},
                 "division by constant zero"},
        Rejected{"mod_by_constant_zero",
                 {stmt(BPF_ALU | BPF_MOD | BPF_K, 0), kRetAllow},
                 "division by constant zero"},
        Rejected{"shift_by_32", {stmt(BPF_ALU | BPF_LSH | BPF_K, 32), kRetAllow}, "shift"},
        Rejected{"scratch_index_16", {stmt(BPF_ST, 16), kRetAllow}, "M[0..15]"},
        Rejected{"read_unwritten_scratch",
                 {stmt(BPF_LD | BPF_MEM, 3), kRetAllow},
                 "before it is written"},
        Rejected{"scratch_written_on_one_path_only",
                 {jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), stmt(BPF_ST, 2),
                  stmt(BPF_LDX | BPF_MEM, 2), kRetAllow},
                 "before it is written"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(BpfProgram, AcceptsEveryOpcodeClassTheKernelAllows) {
  std::vector<BpfInstruction> p = {stmt(BPF_LD | BPF_W | BPF_ABS, 4),
                                   stmt(BPF_LD | BPF_W | BPF_LEN, 0),
                                   stmt(BPF_LDX | BPF_W | BPF_LEN, 0),
                                   stmt(BPF_LD | BPF_IMM, 7),
                                   stmt(BPF_LDX | BPF_IMM, 3),
                                   stmt(BPF_ST, 0),
                                   stmt(BPF_STX, 15),
                                   stmt(BPF_LD | BPF_MEM, 0),
                                   stmt(BPF_LDX | BPF_MEM, 15),
                                   stmt(BPF_ALU | BPF_ADD | BPF_K, 1),
                                   stmt(BPF_ALU | BPF_XOR | BPF_X, 0),
                                   stmt(BPF_ALU | BPF_MOD | BPF_K, 5),
                                   stmt(BPF_ALU | BPF_NEG, 0),
                                   stmt(BPF_MISC | BPF_TAX, 0),
                                   stmt(BPF_MISC | BPF_TXA, 0),
                                   stmt(BPF_JMP | BPF_JA, 0),
                                   jump(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
                                   stmt(BPF_RET | BPF_A, 0),
                                   kRetAllow};
  auto r = BpfProgram::fromInstructions(p);
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(r->size(), p.size());
}

TEST(BpfProgram, ParsesAndRoundTripsRawSockFilterBytes) {
  std::vector<BpfInstruction> p = {stmt(BPF_LD | BPF_W | BPF_ABS, 0),
                                   jump(BPF_JMP | BPF_JEQ | BPF_K, 59, 0, 1),
                                   stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), kRetAllow};
  auto built = BpfProgram::fromInstructions(p);
  ASSERT_TRUE(built.has_value());
  Bytes raw = built->toBytes();
  ASSERT_EQ(raw.size(), 32u);
  // struct sock_filter in host order: code (u16), jt, jf, k (u32).
  sock_filter first{};
  std::memcpy(&first, raw.data() + 8, sizeof first);
  EXPECT_EQ(first.code, BPF_JMP | BPF_JEQ | BPF_K);
  EXPECT_EQ(first.k, 59u);
  EXPECT_EQ(first.jf, 1);
  auto parsed = BpfProgram::fromBytes(raw);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(
      std::equal(parsed->instructions().begin(), parsed->instructions().end(), p.begin(), p.end()));
}

TEST(BpfProgram, RejectsPartialInstructionAndOversizedBytes) {
  Bytes seven(7, 0);
  auto r = BpfProgram::fromBytes(seven);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("8-byte"), std::string::npos);
  Bytes huge((kBpfMaxInstructions + 1) * 8, 0);
  auto h = BpfProgram::fromBytes(huge);
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("4096"), std::string::npos);
  auto e = BpfProgram::fromBytes({});
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("empty"), std::string::npos);
}

TEST(BpfProgram, DescribesInstructions) {
  EXPECT_EQ(describeInstruction(stmt(BPF_LD | BPF_W | BPF_ABS, 4)), "ld [4]");
  EXPECT_EQ(describeInstruction(jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000003e, 1, 0)),
            "jeq #0xc000003e jt +1 jf +0");
  EXPECT_EQ(describeInstruction(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), "ret #0x7fff0000");
  EXPECT_EQ(describeInstruction(stmt(BPF_ALU | BPF_AND | BPF_X, 0)), "and x");
  EXPECT_EQ(describeInstruction(stmt(0x1234, 9)), "opcode 0x1234 k=0x9");
}

}  // namespace
}  // namespace bulwark::agent
