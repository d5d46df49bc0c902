// Textual form of classic-BPF instructions, close to tcpdump/bpf_dbg syntax.
#include <linux/filter.h>

#include <string>

#include "agent/inspect/seccomp/bpf_program.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

const char* aluName(std::uint16_t op) {
  switch (op) {
    case BPF_ADD:
      return "add";
    case BPF_SUB:
      return "sub";
    case BPF_MUL:
      return "mul";
    case BPF_DIV:
      return "div";
    case BPF_MOD:
      return "mod";
    case BPF_AND:
      return "and";
    case BPF_OR:
      return "or";
    case BPF_XOR:
      return "xor";
    case BPF_LSH:
      return "lsh";
    case BPF_RSH:
      return "rsh";
    case BPF_NEG:
      return "neg";
    default:
      return nullptr;
  }
}

const char* jmpName(std::uint16_t op) {
  switch (op) {
    case BPF_JEQ:
      return "jeq";
    case BPF_JGT:
      return "jgt";
    case BPF_JGE:
      return "jge";
    case BPF_JSET:
      return "jset";
    default:
      return nullptr;
  }
}

std::string operand(const BpfInstruction& in) {
  return BPF_SRC(in.code) == BPF_X ? std::string("x") : strCat("#", hexStr(in.k));
}

}  // namespace

std::string describeInstruction(const BpfInstruction& in) {
  const std::uint16_t c = in.code;
  switch (c) {
    case BPF_LD | BPF_W | BPF_ABS:
      return strCat("ld [", in.k, "]");
    case BPF_LD | BPF_W | BPF_LEN:
      return "ld #len";
    case BPF_LDX | BPF_W | BPF_LEN:
      return "ldx #len";
    case BPF_LD | BPF_IMM:
      return strCat("ld #", hexStr(in.k));
    case BPF_LDX | BPF_IMM:
      return strCat("ldx #", hexStr(in.k));
    case BPF_LD | BPF_MEM:
      return strCat("ld M[", in.k, "]");
    case BPF_LDX | BPF_MEM:
      return strCat("ldx M[", in.k, "]");
    case BPF_ST:
      return strCat("st M[", in.k, "]");
    case BPF_STX:
      return strCat("stx M[", in.k, "]");
    case BPF_RET | BPF_K:
      return strCat("ret #", hexStr(in.k, 8));
    case BPF_RET | BPF_A:
      return "ret a";
    case BPF_MISC | BPF_TAX:
      return "tax";
    case BPF_MISC | BPF_TXA:
      return "txa";
    case BPF_JMP | BPF_JA:
      return strCat("ja +", in.k);
    case BPF_ALU | BPF_NEG:
      return "neg";
    default:
      break;
  }
  if (BPF_CLASS(c) == BPF_ALU && (c & 0xff00) == 0) {
    if (const char* n = aluName(BPF_OP(c)); n != nullptr) {
      return strCat(n, " ", operand(in));
    }
  }
  if (BPF_CLASS(c) == BPF_JMP && (c & 0xff00) == 0) {
    if (const char* n = jmpName(BPF_OP(c)); n != nullptr) {
      return strCat(n, " ", operand(in), " jt +", in.jt, " jf +", in.jf);
    }
  }
  return strCat("opcode ", hexStr(c, 4), " k=", hexStr(in.k));
}

}  // namespace bulwark::agent
