// Symbolic execution of a seccomp filter chain for one (arch, nr): every path
// through every filter, with the argument conditions that select it and the
// action the kernel would take on it. This is what turns "the result depends on
// args" into a condition a human can read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/bpf_program.h"
#include "agent/inspect/seccomp/seccomp_action.h"
#include "agent/inspect/seccomp/symbolic.h"

namespace bulwark::agent {

// Bounds on one exploration. Filters are loop-free, but independent argument
// tests can still multiply paths (2^n); past these limits the result is marked
// incomplete, which callers must treat as "may allow" (fail closed).
struct ExploreLimits {
  std::size_t max_paths = 4096;
  std::size_t max_steps = std::size_t{1} << 20;  // instructions, all paths together
};

struct PathOutcome {
  std::vector<Constraint> constraints;  // conjunction; empty = no condition
  // The chain's combined action; nullopt when a filter returned a value
  // computed from arguments (BPF_RET|BPF_A on a symbolic A).
  std::optional<SeccompAction> action;
  std::string undetermined;  // rendering of that symbolic return value
};

struct Exploration {
  std::vector<PathOutcome> paths;
  bool complete = true;          // false: a limit was hit, `paths` is a subset
  bool reads_arguments = false;  // some path loaded instruction_pointer or args[]
};

// `chain` in installation order (PTRACE_SECCOMP_GET_FILTER index 0 first); the
// kernel runs it newest first and keeps the most restrictive action
// (combineNewestFirst). `arch` is the value seccomp_data.arch carries.
Exploration exploreChain(std::span<const BpfProgram> chain, std::uint32_t arch, std::uint32_t nr,
                         const FieldNaming& naming, const ExploreLimits& limits = {});

}  // namespace bulwark::agent
