// Syscall names and numbers per architecture: the seam between the pure
// evaluator and libseccomp's tables (LibseccompSyscallTable).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bulwark::agent {

struct ArchInfo {
  std::string name;              // libseccomp spelling: "x86_64", "x86", "x32", "aarch64", ...
  std::uint32_t token = 0;       // SCMP_ARCH_* value
  std::uint32_t audit_arch = 0;  // what seccomp_data.arch holds for this ABI's syscalls
  bool args_are_32bit = false;   // 32-bit ABI: the argument is the low word
};

struct SyscallInfo {
  std::string name;
  std::uint32_t nr = 0;  // as seccomp_data.nr carries it (x32: with __X32_SYSCALL_BIT)
};

class SyscallTable {
 public:
  virtual ~SyscallTable() = default;
  // Every architecture the table knows, in a stable order.
  virtual std::span<const ArchInfo> architectures() const = 0;
  // Every real syscall of `arch_token`, sorted by number; empty for an unknown arch.
  virtual std::span<const SyscallInfo> syscalls(std::uint32_t arch_token) const = 0;

  const ArchInfo* findArch(std::string_view name) const;
  std::optional<std::uint32_t> resolve(std::uint32_t arch_token, std::string_view name) const;
  // True when some architecture has a syscall of that name.
  bool knowsName(std::string_view name) const;
};

}  // namespace bulwark::agent
