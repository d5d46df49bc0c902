// Seccomp findings for one process: its effective policy against the baseline
// (issue 4: `seccomp-disabled`, `seccomp-allows:<syscall>`), and the summary
// object the `inspect --json` output carries.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent/inspect/seccomp/baseline.h"
#include "agent/inspect/seccomp/effective_policy.h"

namespace bulwark::agent {

// /proc/PID/status "Seccomp:" values (linux/seccomp.h SECCOMP_MODE_*).
enum class SeccompMode { kDisabled = 0, kStrict = 1, kFilter = 2 };

struct SeccompFinding {
  std::string control;  // "seccomp-disabled" or "seccomp-allows:<syscall>"
  std::string severity;
  std::string detail;
  std::vector<std::string> refs;
  std::string syscall;              // empty for seccomp-disabled
  std::vector<std::string> arches;  // where the syscall may run
  bool conditional = false;         // only for some arguments (or undetermined)
  std::string condition;            // "x86_64: args[0] == 0; x86: ..." when conditional
};

// kFilter needs `policy` (the chain's effective policy over the kernel's
// architectures); kDisabled yields `seccomp-disabled`; kStrict allows only
// read/write/exit/sigreturn and so none of a baseline's syscalls.
std::vector<SeccompFinding> compareWithBaseline(SeccompMode mode, const EffectivePolicy* policy,
                                                const SeccompBaseline& baseline);

// {"mode","filters","default_action","allowed","denied","conditional","arches":[...]}
// for the first architecture of `policy` (the native one by convention), plus
// every architecture under "arches".
nlohmann::json seccompSummaryJson(SeccompMode mode, std::size_t filters,
                                  const EffectivePolicy* policy);

std::string_view seccompModeName(SeccompMode mode);

}  // namespace bulwark::agent
