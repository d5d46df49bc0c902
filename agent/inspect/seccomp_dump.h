// Dumps the seccomp filters the kernel enforces on a live process with
// PTRACE_SECCOMP_GET_FILTER (ptrace(2), Linux 4.4; DESIGN.md §5). The edge
// that feeds agent/inspect/seccomp/ raw struct sock_filter bytes.
//
// Needs CAP_SYS_ADMIN and a caller that is not itself under seccomp (the
// kernel refuses otherwise: EACCES / EMEDIUMTYPE are reported as kPermission
// with the reason). The tracee is held in a ptrace stop only between
// PTRACE_INTERRUPT and PTRACE_DETACH; every path — errors included — detaches.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

struct DumpedFilters {
  std::vector<Bytes> filters;          // installation order: index 0 = oldest
  std::chrono::nanoseconds stopped{};  // how long the tracee was held stopped
};

class SeccompFilterSource {
 public:
  virtual ~SeccompFilterSource() = default;
  // The process's filter chain. kNotFound when the process is gone (it exited
  // before or during the dump), kPermission when the kernel refuses.
  [[nodiscard]] virtual Result<DumpedFilters> dump(pid_t pid) = 0;
};

class PtraceSeccompDumper final : public SeccompFilterSource {
 public:
  // PTRACE_SEIZE, PTRACE_INTERRUPT, waitpid until the tracee stops, then
  // PTRACE_SECCOMP_GET_FILTER for index 0, 1, ... until ENOENT, then
  // PTRACE_DETACH (re-injecting a signal that arrived meanwhile).
  [[nodiscard]] Result<DumpedFilters> dump(pid_t pid) override;
};

}  // namespace bulwark::agent
