// The isolation checks of DESIGN.md §5 / issue 4, as a pure function of the
// facts read from /proc. Each check yields findings with a stable control id
// and a detail sentence carrying the evidence; severities and references are
// added from the control catalog, and the isolation profile then decides
// which findings are violations (inspector.h).
#pragma once

#include <string>
#include <vector>

#include "agent/inspect/isolation_profile.h"
#include "agent/inspect/process_facts.h"

namespace bulwark::agent {

struct RawFinding {
  std::string control;  // "host-pid-namespace", "capability:CAP_SYS_ADMIN", ...
  std::string detail;
};

// Namespaces, root without userns, capabilities (outside the profile's
// allowed set), privileged, no_new_privs, LSM, root file system, sensitive
// mounts, cgroup limits. Seccomp is judged from the dumped filter chain
// (seccomp_findings.h); only its mode enters `privileged`. Facts that could
// not be read produce no finding here: the caller reports them as notes.
std::vector<RawFinding> checkIsolation(const ProcessFacts& facts, const HostView& host,
                                       const IsolationProfile& profile);

// privileged: the bounding set lacks at most `kPrivilegedMissingCaps` of the
// kernel's capabilities and has CAP_SYS_ADMIN, and seccomp is off. Tolerating
// a few missing bits makes `--cap-add ALL --cap-drop SYS_RESOURCE
// --security-opt seccomp=unconfined` (a near-equivalent of --privileged) count.
inline constexpr int kPrivilegedMissingCaps = 2;
bool looksPrivileged(const ProcStatus& status, int cap_last_cap, std::vector<int>* missing);

// True for an LSM label that does not confine: none, "unconfined"
// (AppArmor), "*:unconfined_t:*" or "*:spc_t:*" (SELinux).
bool lsmUnconfined(const std::optional<std::string>& label);

}  // namespace bulwark::agent
