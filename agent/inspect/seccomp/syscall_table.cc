#include "agent/inspect/seccomp/syscall_table.h"

namespace bulwark::agent {

const ArchInfo* SyscallTable::findArch(std::string_view name) const {
  for (const ArchInfo& a : architectures()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<std::uint32_t> SyscallTable::resolve(std::uint32_t arch_token,
                                                   std::string_view name) const {
  for (const SyscallInfo& s : syscalls(arch_token)) {
    if (s.name == name) return s.nr;
  }
  return std::nullopt;
}

bool SyscallTable::knowsName(std::string_view name) const {
  for (const ArchInfo& a : architectures()) {
    if (resolve(a.token, name)) return true;
  }
  return false;
}

}  // namespace bulwark::agent
