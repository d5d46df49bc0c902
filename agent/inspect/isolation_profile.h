// Isolation profiles (profiles/isolation/<name>.json, schema profiles/schema/
// isolation-profile.schema.json), modelled on the Kubernetes Pod Security
// Standards: which findings are violations and which are accepted (with the
// reason), and the capability set a container may hold. Pure: judging a
// finding is a lookup in the loaded profile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

inline constexpr std::string_view kIsolationProfileKind = "bulwark.isolation.profile";
inline constexpr int kIsolationProfileVersion = 1;

struct IsolationProfile {
  std::string name;
  std::string description;
  std::string models;
  std::uint64_t allowed_capabilities = 0;            // mask of capability bits
  std::vector<std::string> allowed_host_namespaces;  // pid, network, ipc, uts, mount, cgroup
  bool allow_privileged = false;
  bool seccomp_required = true;
  std::string seccomp_min_severity = "low";  // seccomp-allows below this are accepted
  bool run_as_non_root = false;
  bool require_no_new_privileges = false;
  bool require_lsm = false;
  bool require_read_only_rootfs = false;
  bool require_resource_limits = false;
  std::vector<std::string> allowed_mounts;  // fnmatch(3) patterns of host paths
  std::vector<std::string> accept;          // fnmatch(3) patterns of control ids
};

// How a profile judges one finding.
struct Judgement {
  bool violation = true;
  std::string reason;  // why it is accepted (empty for a violation)
};

// (control, severity) → violation or accepted-with-reason. Unknown controls are
// violations: a profile never silences what it does not know.
Judgement judge(const IsolationProfile& profile, std::string_view control,
                std::string_view severity);

// kMalformed naming the JSON path: invalid JSON, unknown or missing keys,
// wrong types, an unknown capability or namespace name, a bad severity.
[[nodiscard]] Result<IsolationProfile> parseIsolationProfile(std::string_view json_text);
[[nodiscard]] Result<IsolationProfile> loadIsolationProfile(const std::string& path);

// `name_or_path`: a path to a .json file, or a profile name looked up as
// <profiles_dir>/isolation/<name>.json. kInvalidArgument for a name that is not
// [a-z0-9._-]+, kNotFound when the file is missing.
[[nodiscard]] Result<IsolationProfile> resolveIsolationProfile(std::string_view name_or_path,
                                                               const std::string& profiles_dir);

}  // namespace bulwark::agent
