#include "agent/inspect/seccomp/libseccomp_syscall_table.h"

#include <linux/audit.h>
#include <seccomp.h>

#include <cstdlib>
#include <memory>

namespace bulwark::agent {
namespace {

// libseccomp 2.5 architecture names; those the installed library does not
// resolve are skipped.
constexpr const char* kArchNames[] = {"x86_64",      "x86",    "x32",      "aarch64",  "arm",
                                      "mips",        "mipsel", "mips64",   "mipsel64", "mips64n32",
                                      "mipsel64n32", "ppc",    "ppc64",    "ppc64le",  "s390",
                                      "s390x",       "parisc", "parisc64", "riscv64"};

// Number ranges that hold every syscall libseccomp knows: the plain tables
// (MIPS ABIs start at 4000/5000/6000), ARM's private calls at 0x0f0000 and
// x32's numbers with __X32_SYSCALL_BIT.
struct Range {
  std::uint32_t first;
  std::uint32_t count;
};
constexpr Range kRanges[] = {{0, 8192}, {0x0f0000, 0x100}, {0x40000000, 1024}};

std::vector<SyscallInfo> scan(std::uint32_t token) {
  std::vector<SyscallInfo> out;
  for (const Range& r : kRanges) {
    for (std::uint32_t nr = r.first; nr < r.first + r.count; ++nr) {
      std::unique_ptr<char, decltype(&std::free)> name(
          seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr)), &std::free);
      if (!name) continue;
      // Some tables also answer for numbers without their ABI base (x32, MIPS);
      // keep a number only if it is the name's canonical one, or if the name is
      // multiplexed (negative pseudo number, e.g. x86 socket via socketcall)
      // while this direct number exists too.
      const int canonical = seccomp_syscall_resolve_name_arch(token, name.get());
      if (canonical == static_cast<int>(nr) || (canonical < 0 && canonical != __NR_SCMP_ERROR)) {
        out.push_back(SyscallInfo{name.get(), nr});
      }
    }
  }
  return out;
}

}  // namespace

LibseccompSyscallTable::LibseccompSyscallTable() {
  for (const char* n : kArchNames) {
    const std::uint32_t token = seccomp_arch_resolve_name(n);
    if (token == 0) continue;
    ArchInfo a;
    a.name = n;
    a.token = token;
    // x32 syscalls reach seccomp with AUDIT_ARCH_X86_64 and __X32_SYSCALL_BIT
    // in nr (arch/x86/include/asm/syscall.h syscall_get_arch()).
    a.audit_arch = token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    a.args_are_32bit = (a.audit_arch & __AUDIT_ARCH_64BIT) == 0;
    arches_.push_back(a);
    syscalls_[token] = scan(token);
  }
}

std::span<const SyscallInfo> LibseccompSyscallTable::syscalls(std::uint32_t arch_token) const {
  auto it = syscalls_.find(arch_token);
  if (it == syscalls_.end()) return {};
  return it->second;
}

std::string LibseccompSyscallTable::nativeArchitecture() const {
  const std::uint32_t native = seccomp_arch_native();
  for (const ArchInfo& a : arches_) {
    if (a.token == native) return a.name;
  }
  return {};
}

std::vector<std::string> kernelArchitectures(std::string_view native) {
  if (native == "x86_64") return {"x86_64", "x86", "x32"};
  if (native == "aarch64") return {"aarch64", "arm"};
  if (native == "ppc64") return {"ppc64", "ppc"};
  if (native == "s390x") return {"s390x", "s390"};
  if (native == "mips64") return {"mips64", "mips64n32", "mips"};
  if (native == "mipsel64") return {"mipsel64", "mipsel64n32", "mipsel"};
  if (native == "parisc64") return {"parisc64", "parisc"};
  return {std::string(native)};
}

}  // namespace bulwark::agent
