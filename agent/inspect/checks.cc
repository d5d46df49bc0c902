#include "agent/inspect/checks.h"

#include "agent/inspect/capabilities.h"
#include "agent/inspect/mounts.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

struct NsControl {
  const char* kind;  // /proc/PID/ns/<kind>
  const char* control;
};

constexpr NsControl kNsControls[] = {
    {"pid", "host-pid-namespace"},   {"net", "host-network-namespace"},
    {"ipc", "host-ipc-namespace"},   {"uts", "host-uts-namespace"},
    {"mnt", "host-mount-namespace"}, {"cgroup", "host-cgroup-namespace"}};

bool sharesWithHost(const ProcessFacts& f, const HostView& host, const std::string& kind) {
  auto mine = f.namespaces.find(kind);
  auto theirs = host.namespaces.find(kind);
  return mine != f.namespaces.end() && theirs != host.namespaces.end() &&
         mine->second == theirs->second;
}

void checkNamespaces(const ProcessFacts& f, const HostView& host, std::vector<RawFinding>& out) {
  for (const NsControl& c : kNsControls) {
    if (!sharesWithHost(f, host, c.kind)) continue;
    const NamespaceId& id = f.namespaces.at(c.kind);
    out.push_back({c.control, strCat(c.kind, " namespace ", c.kind, ":[", id.ino,
                                     "] is the host's (same st_dev/st_ino as ", host.reference,
                                     "/ns/", c.kind, ")")});
  }
  if ((f.status.uid_effective == 0 || f.status.uid_real == 0) && sharesWithHost(f, host, "user")) {
    out.push_back({"root-without-userns",
                   strCat("uid ", f.status.uid_real, "/", f.status.uid_effective,
                          " in the host's user namespace: container root is host root")});
  }
}

void checkCapabilities(const ProcessFacts& f, const IsolationProfile& profile,
                       std::vector<RawFinding>& out) {
  const std::uint64_t held = f.status.cap_eff | f.status.cap_bnd;
  for (int bit : capabilityBits(held & ~profile.allowed_capabilities)) {
    const bool eff = (f.status.cap_eff >> bit) & 1u;
    const std::string name = capabilityName(bit);
    out.push_back(
        {"capability:" + name,
         strCat(name, eff ? " is in the effective set" : " is in the bounding set", " (CapEff ",
                hexStr(f.status.cap_eff, 16), ", CapBnd ", hexStr(f.status.cap_bnd, 16),
                "); profile '", profile.name, "' does not allow it")});
  }
}

void checkPrivileges(const ProcessFacts& f, const HostView& host, std::vector<RawFinding>& out) {
  std::vector<int> missing;
  if (looksPrivileged(f.status, host.cap_last_cap, &missing)) {
    std::string lacking;
    for (int bit : missing) lacking += (lacking.empty() ? "" : ", ") + capabilityName(bit);
    out.push_back(
        {"privileged", strCat("bounding set has ", capabilityBits(f.status.cap_bnd).size(), " of ",
                              host.cap_last_cap + 1, " capabilities",
                              lacking.empty() ? std::string() : " (lacks " + lacking + ")",
                              " and seccomp is off: equivalent to --privileged")});
  }
  if (f.status.no_new_privs && *f.status.no_new_privs == 0) {
    out.push_back({"no-new-privileges-off", "NoNewPrivs: 0 in /proc/PID/status"});
  }
  if (lsmUnconfined(f.lsm_label)) {
    out.push_back({"lsm-unconfined",
                   f.lsm_label
                       ? strCat("LSM label '", *f.lsm_label, "' does not confine")
                       : std::string("no LSM labels the process (no AppArmor or SELinux)")});
  }
}

void checkMounts(const ProcessFacts& f, const HostView& host, std::vector<RawFinding>& out) {
  if (const MountInfoEntry* root = rootMount(f.mounts); root != nullptr && !root->readOnly()) {
    out.push_back({"rootfs-writable", strCat("/ is mounted rw (", root->fs_type, " ", root->source,
                                             ", root ", root->root, ")")});
  }
  for (const SensitiveMount& m : sensitiveMounts(f.mounts, host.mounts)) {
    out.push_back(
        {"sensitive-mount:" + m.host_path, strCat(m.why, ": host ", m.host_path, " at ",
                                                  m.mount_point, m.writable ? " (rw)" : " (ro)")});
  }
}

void checkLimits(const ProcessFacts& f, std::vector<RawFinding>& out) {
  if (f.memory.known && !f.memory.limit) {
    out.push_back({"no-memory-limit", strCat(f.memory.file, " is unlimited")});
  }
  if (f.pids.known && !f.pids.limit) {
    out.push_back({"no-pids-limit", strCat(f.pids.file, " is unlimited")});
  }
}

}  // namespace

bool looksPrivileged(const ProcStatus& status, int cap_last_cap, std::vector<int>* missing) {
  if (!status.seccomp || *status.seccomp != 0) return false;
  constexpr int kSysAdmin = 21;
  if (((status.cap_bnd >> kSysAdmin) & 1u) == 0) return false;
  // CAP_PERFMON (38), CAP_BPF (39) and CAP_CHECKPOINT_RESTORE (40) were split out
  // of CAP_SYS_ADMIN (Linux 5.8/5.9), which still grants what they do: holding
  // CAP_SYS_ADMIN, lacking them takes no power away. Runtimes that predate them
  // (Docker 20.10's "ALL") never grant them.
  constexpr std::uint64_t kSplitFromSysAdmin = (1ull << 38) | (1ull << 39) | (1ull << 40);
  const std::vector<int> lacking = capabilityBits(allCapabilitiesMask(cap_last_cap) &
                                                  ~status.cap_bnd & ~kSplitFromSysAdmin);
  if (static_cast<int>(lacking.size()) > kPrivilegedMissingCaps) return false;
  if (missing != nullptr) *missing = lacking;
  return true;
}

bool lsmUnconfined(const std::optional<std::string>& label) {
  if (!label) return true;
  const std::string& l = *label;
  return l == "unconfined" || l.starts_with("unconfined ") ||
         l.find(":unconfined_t:") != std::string::npos || l.find(":spc_t:") != std::string::npos;
}

std::vector<RawFinding> checkIsolation(const ProcessFacts& facts, const HostView& host,
                                       const IsolationProfile& profile) {
  std::vector<RawFinding> out;
  checkNamespaces(facts, host, out);
  checkCapabilities(facts, profile, out);
  checkPrivileges(facts, host, out);
  checkMounts(facts, host, out);
  checkLimits(facts, out);
  return out;
}

}  // namespace bulwark::agent
