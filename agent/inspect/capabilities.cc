#include "agent/inspect/capabilities.h"

#include <array>
#include <cctype>

namespace bulwark::agent {
namespace {

// Index = capability number (linux/capability.h).
constexpr std::array<std::string_view, kCapLastKnown + 1> kNames = {"CAP_CHOWN",
                                                                    "CAP_DAC_OVERRIDE",
                                                                    "CAP_DAC_READ_SEARCH",
                                                                    "CAP_FOWNER",
                                                                    "CAP_FSETID",
                                                                    "CAP_KILL",
                                                                    "CAP_SETGID",
                                                                    "CAP_SETUID",
                                                                    "CAP_SETPCAP",
                                                                    "CAP_LINUX_IMMUTABLE",
                                                                    "CAP_NET_BIND_SERVICE",
                                                                    "CAP_NET_BROADCAST",
                                                                    "CAP_NET_ADMIN",
                                                                    "CAP_NET_RAW",
                                                                    "CAP_IPC_LOCK",
                                                                    "CAP_IPC_OWNER",
                                                                    "CAP_SYS_MODULE",
                                                                    "CAP_SYS_RAWIO",
                                                                    "CAP_SYS_CHROOT",
                                                                    "CAP_SYS_PTRACE",
                                                                    "CAP_SYS_PACCT",
                                                                    "CAP_SYS_ADMIN",
                                                                    "CAP_SYS_BOOT",
                                                                    "CAP_SYS_NICE",
                                                                    "CAP_SYS_RESOURCE",
                                                                    "CAP_SYS_TIME",
                                                                    "CAP_SYS_TTY_CONFIG",
                                                                    "CAP_MKNOD",
                                                                    "CAP_LEASE",
                                                                    "CAP_AUDIT_WRITE",
                                                                    "CAP_AUDIT_CONTROL",
                                                                    "CAP_SETFCAP",
                                                                    "CAP_MAC_OVERRIDE",
                                                                    "CAP_MAC_ADMIN",
                                                                    "CAP_SYSLOG",
                                                                    "CAP_WAKE_ALARM",
                                                                    "CAP_BLOCK_SUSPEND",
                                                                    "CAP_AUDIT_READ",
                                                                    "CAP_PERFMON",
                                                                    "CAP_BPF",
                                                                    "CAP_CHECKPOINT_RESTORE"};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string capabilityName(int bit) {
  if (bit >= 0 && bit <= kCapLastKnown) return std::string(kNames[static_cast<std::size_t>(bit)]);
  return "CAP_" + std::to_string(bit);
}

std::optional<int> capabilityFromName(std::string_view name) {
  for (int bit = 0; bit <= kCapLastKnown; ++bit) {
    const std::string_view full = kNames[static_cast<std::size_t>(bit)];
    if (equalsIgnoreCase(name, full) || equalsIgnoreCase(name, full.substr(4))) return bit;
  }
  return std::nullopt;
}

std::vector<int> capabilityBits(std::uint64_t mask) {
  std::vector<int> bits;
  for (int bit = 0; bit < 64; ++bit) {
    if ((mask >> bit) & 1u) bits.push_back(bit);
  }
  return bits;
}

std::uint64_t allCapabilitiesMask(int last_cap) {
  if (last_cap < 0) return 0;
  if (last_cap >= 63) return ~std::uint64_t{0};
  return (std::uint64_t{1} << (last_cap + 1)) - 1;
}

}  // namespace bulwark::agent
