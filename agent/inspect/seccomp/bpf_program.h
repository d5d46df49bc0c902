// A classic-BPF seccomp filter as the kernel accepted it: struct sock_filter
// instructions (linux/filter.h), validated up front with the kernel's load-time
// rules (net/core/filter.c bpf_check_classic + check_load_and_stores, and
// kernel/seccomp.c seccomp_check_filter), so evaluation never meets an
// instruction the kernel would have refused and always terminates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

// struct sock_filter (linux/filter.h): 8 bytes, host byte order, as
// PTRACE_SECCOMP_GET_FILTER copies it out of the kernel.
struct BpfInstruction {
  std::uint16_t code = 0;
  std::uint8_t jt = 0;
  std::uint8_t jf = 0;
  std::uint32_t k = 0;

  friend bool operator==(const BpfInstruction&, const BpfInstruction&) = default;
};

inline constexpr std::size_t kBpfInstructionSize = 8;
inline constexpr std::size_t kBpfMaxInstructions = 4096;  // BPF_MAXINSNS
inline constexpr std::size_t kBpfMemWords = 16;           // BPF_MEMWORDS: M[0..15]
// sizeof(struct seccomp_data) (linux/seccomp.h): nr, arch, instruction_pointer, args[6].
inline constexpr std::uint32_t kSeccompDataSize = 64;

// Only obtainable through the validating factories, so holding one means
// "the kernel would load this": every evaluator may rely on it.
class BpfProgram {
 public:
  // Parses raw sock_filter bytes. kMalformed when the size is not a multiple of
  // 8, the program is empty or longer than 4096 instructions, or any
  // instruction fails validation (the message names the instruction index).
  [[nodiscard]] static Result<BpfProgram> fromBytes(ByteView bytes);
  [[nodiscard]] static Result<BpfProgram> fromInstructions(std::vector<BpfInstruction> insns);

  std::span<const BpfInstruction> instructions() const { return insns_; }
  std::size_t size() const { return insns_.size(); }
  // The same bytes fromBytes() accepts (host byte order).
  Bytes toBytes() const;

 private:
  explicit BpfProgram(std::vector<BpfInstruction> insns) : insns_(std::move(insns)) {}
  std::vector<BpfInstruction> insns_;
};

// The kernel's load-time checks, in the kernel's order. Exposed for tests and
// for callers that want the reason without building a program.
[[nodiscard]] Result<void> validateSeccompProgram(std::span<const BpfInstruction> insns);

// Human form of one instruction ("ld [4]", "jeq #0xc000003e jt 1 jf 0", ...),
// for error messages and docs.
std::string describeInstruction(const BpfInstruction& insn);

}  // namespace bulwark::agent
