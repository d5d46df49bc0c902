// HostFacts (bulwark.v1) for EnrollRequest and Report: host name, OS, kernel,
// boot id, machine id, agent version. Informational to the verifier; the quote
// and logs are what it trusts. Parsing is pure; reading takes the file paths so
// tests point them elsewhere.
#pragma once

#include <string>
#include <string_view>

#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

inline constexpr std::string_view kAgentVersion = "0.1.0";

struct HostFactsPaths {
  std::string os_release = "/etc/os-release";
  std::string boot_id = "/proc/sys/kernel/random/boot_id";
  std::string machine_id = "/etc/machine-id";
};

// PRETTY_NAME of an os-release(5) file (quotes and backslash escapes removed),
// else NAME, else "".
std::string prettyNameFromOsRelease(std::string_view text);

// Never fails: a fact that cannot be read is left empty.
bulwark::v1::HostFacts collectHostFacts(const HostFactsPaths& paths = {});

}  // namespace bulwark::agent
