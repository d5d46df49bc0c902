#include "agent/inspect/seccomp/bpf_program.h"

#include <linux/filter.h>

#include <cstring>
#include <string>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

// Opcodes a seccomp filter may contain: the intersection of bpf_check_classic's
// chk_code_allowed() table (net/core/filter.c) and seccomp_check_filter()'s
// explicit list (kernel/seccomp.c). Anything else the kernel refuses with EINVAL.
bool seccompCodeAllowed(std::uint16_t code) {
  switch (code) {
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_ALU | BPF_NEG:
    case BPF_JMP | BPF_JA:
      return true;
    default:
      break;
  }
  const std::uint16_t src = code & 0x08;
  const std::uint16_t rest = code & ~std::uint16_t{0x08};
  switch (rest) {
    case BPF_ALU | BPF_ADD:
    case BPF_ALU | BPF_SUB:
    case BPF_ALU | BPF_MUL:
    case BPF_ALU | BPF_DIV:
    case BPF_ALU | BPF_MOD:
    case BPF_ALU | BPF_AND:
    case BPF_ALU | BPF_OR:
    case BPF_ALU | BPF_XOR:
    case BPF_ALU | BPF_LSH:
    case BPF_ALU | BPF_RSH:
    case BPF_JMP | BPF_JEQ:
    case BPF_JMP | BPF_JGT:
    case BPF_JMP | BPF_JGE:
    case BPF_JMP | BPF_JSET:
      return src == BPF_K || src == BPF_X;
    default:
      return false;
  }
}

bool isConditionalJump(std::uint16_t code) {
  return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

std::unexpected<Error> bad(std::size_t pc, const BpfInstruction& insn, std::string why) {
  return fail(ErrorCode::kMalformed,
              strCat("instruction ", pc, " (", describeInstruction(insn), "): ", why),
              "seccomp BPF");
}

// Per-instruction rules of bpf_check_classic() and seccomp_check_filter().
Result<void> checkInstruction(std::span<const BpfInstruction> insns, std::size_t pc) {
  const BpfInstruction& in = insns[pc];
  const std::size_t len = insns.size();
  if (!seccompCodeAllowed(in.code)) {
    return bad(pc, in,
               strCat("opcode ", hexStr(in.code, 4), " is not allowed in a seccomp filter"));
  }
  switch (in.code) {
    case BPF_ALU | BPF_DIV | BPF_K:
    case BPF_ALU | BPF_MOD | BPF_K:
      if (in.k == 0) return bad(pc, in, "division by constant zero");
      break;
    case BPF_ALU | BPF_LSH | BPF_K:
    case BPF_ALU | BPF_RSH | BPF_K:
      if (in.k >= 32) return bad(pc, in, "shift by 32 or more");
      break;
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
      if (in.k >= kBpfMemWords) return bad(pc, in, "scratch memory index out of range M[0..15]");
      break;
    case BPF_JMP | BPF_JA:
      if (in.k >= len - pc - 1) return bad(pc, in, "jump target out of range");
      break;
    case BPF_LD | BPF_W | BPF_ABS:
      // seccomp_check_filter: only 32-bit aligned loads inside struct seccomp_data.
      if (in.k >= kSeccompDataSize) return bad(pc, in, "load beyond struct seccomp_data");
      if ((in.k & 3) != 0) return bad(pc, in, "unaligned load (offset not a multiple of 4)");
      break;
    default:
      if (isConditionalJump(in.code) && (pc + in.jt + 1 >= len || pc + in.jf + 1 >= len)) {
        return bad(pc, in, "jump target out of range");
      }
      break;
  }
  return {};
}

// check_load_and_stores(): every scratch-memory read must follow a write on all
// paths. Mirrors the kernel's mask propagation exactly (forward jumps only).
Result<void> checkLoadsAfterStores(std::span<const BpfInstruction> insns) {
  std::vector<std::uint16_t> masks(insns.size(), 0xffff);
  std::uint16_t valid = 0;
  for (std::size_t pc = 0; pc < insns.size(); ++pc) {
    const BpfInstruction& in = insns[pc];
    valid &= masks[pc];
    if (in.code == BPF_ST || in.code == BPF_STX) {
      valid |= static_cast<std::uint16_t>(1u << in.k);
    } else if (in.code == (BPF_LD | BPF_MEM) || in.code == (BPF_LDX | BPF_MEM)) {
      if ((valid & (1u << in.k)) == 0) {
        return bad(pc, in, strCat("reads M[", in.k, "] before it is written on every path"));
      }
    } else if (in.code == (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + in.k] &= valid;
      valid = 0xffff;
    } else if (isConditionalJump(in.code)) {
      masks[pc + 1 + in.jt] &= valid;
      masks[pc + 1 + in.jf] &= valid;
      valid = 0xffff;
    }
  }
  return {};
}

}  // namespace

Result<void> validateSeccompProgram(std::span<const BpfInstruction> insns) {
  if (insns.empty()) return fail(ErrorCode::kMalformed, "empty filter program", "seccomp BPF");
  if (insns.size() > kBpfMaxInstructions) {
    return fail(ErrorCode::kMalformed,
                strCat("filter has ", insns.size(), " instructions, the kernel limit is ",
                       kBpfMaxInstructions),
                "seccomp BPF");
  }
  for (std::size_t pc = 0; pc < insns.size(); ++pc) {
    if (auto ok = checkInstruction(insns, pc); !ok) return ok;
  }
  const BpfInstruction& last = insns.back();
  if (last.code != (BPF_RET | BPF_K) && last.code != (BPF_RET | BPF_A)) {
    return bad(insns.size() - 1, last, "the last instruction must be a return");
  }
  return checkLoadsAfterStores(insns);
}

Result<BpfProgram> BpfProgram::fromInstructions(std::vector<BpfInstruction> insns) {
  if (auto ok = validateSeccompProgram(insns); !ok) return std::unexpected(ok.error());
  return BpfProgram(std::move(insns));
}

Result<BpfProgram> BpfProgram::fromBytes(ByteView bytes) {
  if (bytes.size() % kBpfInstructionSize != 0) {
    return fail(
        ErrorCode::kMalformed,
        strCat(bytes.size(), " bytes is not a whole number of 8-byte sock_filter instructions"),
        "seccomp BPF");
  }
  if (bytes.size() / kBpfInstructionSize > kBpfMaxInstructions) {
    return fail(ErrorCode::kMalformed,
                strCat("filter has ", bytes.size() / kBpfInstructionSize,
                       " instructions, the kernel limit is ", kBpfMaxInstructions),
                "seccomp BPF");
  }
  std::vector<BpfInstruction> insns(bytes.size() / kBpfInstructionSize);
  for (std::size_t i = 0; i < insns.size(); ++i) {
    const std::uint8_t* p = bytes.data() + i * kBpfInstructionSize;
    std::memcpy(&insns[i].code, p, 2);  // host byte order, as the kernel stores it
    insns[i].jt = p[2];
    insns[i].jf = p[3];
    std::memcpy(&insns[i].k, p + 4, 4);
  }
  return fromInstructions(std::move(insns));
}

Bytes BpfProgram::toBytes() const {
  Bytes out(insns_.size() * kBpfInstructionSize);
  for (std::size_t i = 0; i < insns_.size(); ++i) {
    std::uint8_t* p = out.data() + i * kBpfInstructionSize;
    std::memcpy(p, &insns_[i].code, 2);
    p[2] = insns_[i].jt;
    p[3] = insns_[i].jf;
    std::memcpy(p + 4, &insns_[i].k, 4);
  }
  return out;
}

}  // namespace bulwark::agent
