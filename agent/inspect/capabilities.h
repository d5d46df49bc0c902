// Linux capability numbers and names (linux/capability.h), for reading the
// CapEff/CapBnd masks of /proc/PID/status and for profiles that name
// capabilities. A table rather than libcap: the numbers are kernel ABI and
// never change, and the agent must name bits newer than the installed libcap.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::agent {

// Highest capability number this table names (CAP_CHECKPOINT_RESTORE, Linux 5.9).
inline constexpr int kCapLastKnown = 40;

// "CAP_SYS_ADMIN" for 21; "CAP_41" style for numbers past the table.
std::string capabilityName(int bit);

// Accepts "CAP_SYS_ADMIN" and "SYS_ADMIN" (any case); nullopt when unknown.
std::optional<int> capabilityFromName(std::string_view name);

// Bits set in `mask`, ascending.
std::vector<int> capabilityBits(std::uint64_t mask);

// Mask of every capability 0..last_cap (/proc/sys/kernel/cap_last_cap).
std::uint64_t allCapabilitiesMask(int last_cap);

}  // namespace bulwark::agent
