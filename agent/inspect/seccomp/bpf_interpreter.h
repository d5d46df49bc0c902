// Concrete classic-BPF evaluation of a validated seccomp filter over one
// struct seccomp_data, with the kernel's semantics (net/core/filter.c
// bpf_convert_filter: A and X start at 0, division by a zero X returns 0).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>

#include "agent/inspect/seccomp/bpf_program.h"
#include "agent/inspect/seccomp/seccomp_action.h"

namespace bulwark::agent {

// struct seccomp_data (linux/seccomp.h). Loads see it in the byte order of the
// kernel that runs the filter; `big_endian` picks which 32-bit half of each
// 64-bit field sits at the lower offset.
struct SeccompData {
  std::uint32_t nr = 0;
  std::uint32_t arch = 0;
  std::uint64_t instruction_pointer = 0;
  std::array<std::uint64_t, 6> args{};
};

inline constexpr bool kHostBigEndian = std::endian::native == std::endian::big;

// The 32-bit word at a 4-aligned offset < 64, as BPF_LD|BPF_W|BPF_ABS reads it.
std::uint32_t seccompDataWord(const SeccompData& data, std::uint32_t offset,
                              bool big_endian = kHostBigEndian);

// Runs one filter. Total: a BpfProgram is validated, jumps only go forward, so
// this executes at most program.size() instructions.
SeccompAction runFilter(const BpfProgram& program, const SeccompData& data,
                        bool big_endian = kHostBigEndian);

// Runs a chain as the kernel does. `chain` is in installation order (index 0 =
// first installed, the numbering of PTRACE_SECCOMP_GET_FILTER); an empty chain
// allows everything.
SeccompAction runFilterChain(std::span<const BpfProgram> chain, const SeccompData& data,
                             bool big_endian = kHostBigEndian);

}  // namespace bulwark::agent
