// SyscallTable backed by the installed libseccomp's per-architecture tables
// (seccomp_syscall_resolve_num_arch / _name_arch), so names and numbers are
// exactly those container runtimes compile their profiles with.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/inspect/seccomp/syscall_table.h"

namespace bulwark::agent {

class LibseccompSyscallTable final : public SyscallTable {
 public:
  // Builds every table up front (a few tens of milliseconds); immutable after.
  LibseccompSyscallTable();

  std::span<const ArchInfo> architectures() const override { return arches_; }
  std::span<const SyscallInfo> syscalls(std::uint32_t arch_token) const override;

  // The architecture this libseccomp was built for ("x86_64", ...).
  std::string nativeArchitecture() const;

 private:
  std::vector<ArchInfo> arches_;
  std::map<std::uint32_t, std::vector<SyscallInfo>> syscalls_;
};

// ABIs a kernel of `native` architecture runs (and a filter must therefore
// cover): x86_64 -> x86_64, x86, x32; aarch64 -> aarch64, arm; ... Unknown
// names map to themselves.
std::vector<std::string> kernelArchitectures(std::string_view native);

}  // namespace bulwark::agent
