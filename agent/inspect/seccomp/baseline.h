// The seccomp baseline: syscalls every container's effective filter must deny
// (profiles/seccomp/baseline-deny.json, schema profiles/schema/
// seccomp-baseline.schema.json). The loader checks what the schema says and
// what a schema cannot: every name is a syscall libseccomp knows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/inspect/seccomp/syscall_table.h"
#include "attest/core/error.h"

namespace bulwark::agent {

inline constexpr std::string_view kSeccompBaselineKind = "bulwark.seccomp.baseline";
inline constexpr int kSeccompBaselineVersion = 1;

struct BaselineEntry {
  std::string syscall;
  std::string severity;  // low | medium | high | critical
  std::string reason;
};

struct SeccompBaseline {
  std::string name;
  std::string description;
  std::vector<std::string> refs;  // controls every finding from this baseline cites
  std::vector<BaselineEntry> deny;
};

// Parses and validates a baseline document. kMalformed for invalid JSON, a
// missing or unknown key, a wrong type, a duplicate entry, or a syscall name no
// architecture in `table` has; the message names the offending JSON path.
[[nodiscard]] Result<SeccompBaseline> parseSeccompBaseline(std::string_view json_text,
                                                           const SyscallTable& table);

// Reads `path` and parses it (kIo / kNotFound for the file, then as above).
[[nodiscard]] Result<SeccompBaseline> loadSeccompBaseline(const std::string& path,
                                                          const SyscallTable& table);

}  // namespace bulwark::agent
