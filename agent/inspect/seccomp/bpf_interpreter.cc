#include "agent/inspect/seccomp/bpf_interpreter.h"

#include <linux/filter.h>

namespace bulwark::agent {
namespace {

std::uint32_t alu(std::uint16_t op, std::uint32_t a, std::uint32_t b, bool* div_by_zero) {
  switch (op) {
    case BPF_ADD:
      return a + b;
    case BPF_SUB:
      return a - b;
    case BPF_MUL:
      return a * b;
    case BPF_DIV:
    case BPF_MOD:
      if (b == 0) {  // only reachable with X; constants are rejected at load
        *div_by_zero = true;
        return 0;
      }
      return op == BPF_DIV ? a / b : a % b;
    case BPF_AND:
      return a & b;
    case BPF_OR:
      return a | b;
    case BPF_XOR:
      return a ^ b;
    // Shifts by X >= 32 are undefined in C and architecture-specific in JITs;
    // we model x86 (count taken modulo 32). Constant shifts >= 32 are rejected.
    case BPF_LSH:
      return a << (b & 31u);
    case BPF_RSH:
      return a >> (b & 31u);
    case BPF_NEG:
      return 0u - a;
    default:
      return a;  // unreachable: validated
  }
}

bool jumpTaken(std::uint16_t op, std::uint32_t a, std::uint32_t b) {
  switch (op) {
    case BPF_JEQ:
      return a == b;
    case BPF_JGT:
      return a > b;
    case BPF_JGE:
      return a >= b;
    case BPF_JSET:
      return (a & b) != 0;
    default:
      return false;  // unreachable: validated
  }
}

}  // namespace

std::uint32_t seccompDataWord(const SeccompData& data, std::uint32_t offset, bool big_endian) {
  if (offset == 0) return data.nr;
  if (offset == 4) return data.arch;
  const std::uint64_t field =
      offset < 16 ? data.instruction_pointer : data.args[((offset - 16) / 8) % 6];
  const bool low_offset = (offset % 8) == 0;
  const bool low_half = big_endian ? !low_offset : low_offset;
  return static_cast<std::uint32_t>(low_half ? field : field >> 32);
}

SeccompAction runFilter(const BpfProgram& program, const SeccompData& data, bool big_endian) {
  const auto insns = program.instructions();
  std::uint32_t a = 0;
  std::uint32_t x = 0;
  std::array<std::uint32_t, kBpfMemWords> mem{};
  for (std::size_t pc = 0; pc < insns.size(); ++pc) {
    const BpfInstruction& in = insns[pc];
    const std::uint16_t c = in.code;
    switch (BPF_CLASS(c)) {
      case BPF_LD:
        if (BPF_MODE(c) == BPF_ABS)
          a = seccompDataWord(data, in.k, big_endian);
        else if (BPF_MODE(c) == BPF_LEN)
          a = kSeccompDataSize;
        else if (BPF_MODE(c) == BPF_MEM)
          a = mem[in.k];
        else
          a = in.k;  // BPF_IMM
        break;
      case BPF_LDX:
        if (BPF_MODE(c) == BPF_LEN)
          x = kSeccompDataSize;
        else if (BPF_MODE(c) == BPF_MEM)
          x = mem[in.k];
        else
          x = in.k;
        break;
      case BPF_ST:
        mem[in.k] = a;
        break;
      case BPF_STX:
        mem[in.k] = x;
        break;
      case BPF_ALU: {
        bool div_by_zero = false;
        a = alu(BPF_OP(c), a, BPF_SRC(c) == BPF_X ? x : in.k, &div_by_zero);
        if (div_by_zero) return SeccompAction(0);  // cBPF: "return 0" = KILL_THREAD
        break;
      }
      case BPF_JMP:
        if (BPF_OP(c) == BPF_JA) {
          pc += in.k;
        } else {
          const std::uint32_t b = BPF_SRC(c) == BPF_X ? x : in.k;
          pc += jumpTaken(BPF_OP(c), a, b) ? in.jt : in.jf;
        }
        break;
      case BPF_RET:
        return SeccompAction(BPF_RVAL(c) == BPF_A ? a : in.k);
      case BPF_MISC:
        if (BPF_MISCOP(c) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
      default:
        break;
    }
  }
  return SeccompAction(0);  // unreachable: validated programs end in a return
}

SeccompAction runFilterChain(std::span<const BpfProgram> chain, const SeccompData& data,
                             bool big_endian) {
  SeccompAction result = SeccompAction::allow();
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    result = combineNewestFirst(result, runFilter(*it, data, big_endian));
  }
  return result;
}

}  // namespace bulwark::agent
