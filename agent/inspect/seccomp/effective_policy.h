// The effective policy of a seccomp filter chain: for every syscall of every
// architecture the kernel runs, what the kernel would do and under which
// argument conditions (DESIGN.md §5).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/bpf_program.h"
#include "agent/inspect/seccomp/path_explorer.h"
#include "agent/inspect/seccomp/seccomp_action.h"
#include "agent/inspect/seccomp/syscall_table.h"

namespace bulwark::agent {

// One action a syscall can end in, and when.
struct ActionCase {
  std::optional<SeccompAction> action;  // nullopt: the return value is computed from arguments
  std::string label;                    // action.name(), or "RET <expression>"
  std::vector<std::string> when;        // disjunction of conjunctions; {""} = always

  // Executed, delegated to a tracer/supervisor, or (undetermined) possibly either.
  bool mayRun() const;
};

struct SyscallPolicy {
  std::string name;
  std::uint32_t nr = 0;
  std::vector<ActionCase> cases;  // most restrictive first; undetermined last
  bool complete = true;           // false: exploration limits hit (treat as "may run")
  bool reads_arguments = false;

  // True when the outcome depends on arguments or could not be fully enumerated.
  bool conditional() const { return !complete || cases.size() != 1; }
  // The single action when unconditional.
  std::optional<SeccompAction> unconditionalAction() const;
  // The syscall can run (ALLOW/LOG) or be let through (TRACE/USER_NOTIF) on some path.
  bool mayRun() const;
  // For a conditional syscall that may run: when it does, in words.
  std::string runCondition() const;
};

struct ArchPolicy {
  ArchInfo arch;
  std::vector<SyscallPolicy> syscalls;  // sorted by number
  // What the filter does with syscalls it does not name: the action for the
  // lowest unassigned number inside the arch's range (no profile can name it),
  // else the most common unconditional action.
  std::string default_action;
  // Every syscall ends in the same unconditional action: the filter does not
  // distinguish syscalls on this architecture (e.g. a foreign arch it kills).
  bool uniform = false;

  const SyscallPolicy* find(std::string_view name) const;
};

struct EffectivePolicy {
  std::vector<ArchPolicy> arches;
  const ArchPolicy* find(std::string_view arch_name) const;
};

// Evaluates `chain` (installation order; empty = no filter) for every syscall
// of each architecture in `arch_names` (libseccomp names; empty = every
// architecture the table knows). kInvalidArgument for an unknown name.
[[nodiscard]] Result<EffectivePolicy> computeEffectivePolicy(
    std::span<const BpfProgram> chain, const SyscallTable& table,
    std::span<const std::string> arch_names, const ExploreLimits& limits = {});

// Evaluates one syscall number (also numbers libseccomp has no name for).
SyscallPolicy evaluateSyscall(std::span<const BpfProgram> chain, const ArchInfo& arch,
                              std::uint32_t nr, const ExploreLimits& limits = {});

}  // namespace bulwark::agent
