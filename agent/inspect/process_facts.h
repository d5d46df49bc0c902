// What /proc says about a container's init process and about the host, read
// once per inspection (the edge; checks.h judges the facts). Paths are under a
// configurable proc root so tests can point it elsewhere.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/inspect/proc_parse.h"

namespace bulwark::agent {

// A namespace's identity: (st_dev, st_ino) of /proc/PID/ns/<name> (namespaces(7)).
struct NamespaceId {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  friend bool operator==(const NamespaceId&, const NamespaceId&) = default;
};

// ns file names compared with the host: pid, net, ipc, uts, mnt, cgroup, user.
const std::vector<std::string>& namespaceKinds();

struct HostView {
  std::map<std::string, NamespaceId> namespaces;  // by ns file name
  std::string reference;                          // "/proc/1" or "/proc/self" (PID 1 unreadable)
  std::vector<MountInfoEntry> mounts;             // the agent's mountinfo (host view)
  int cap_last_cap = 40;                          // /proc/sys/kernel/cap_last_cap
  std::multimap<pid_t, pid_t> children;           // ppid -> pid, snapshot of /proc/*/stat
};

// A cgroup limit as read: `known` false when the file could not be located or read.
struct LimitFact {
  bool known = false;
  std::optional<std::uint64_t> limit;  // nullopt = unlimited ("max")
  std::string file;                    // which file decided
  std::string problem;                 // why unknown
};

struct ProcessFacts {
  pid_t pid = 0;
  ProcStatus status;
  ProcStat stat;
  std::map<std::string, NamespaceId> namespaces;  // missing entry: could not stat
  std::optional<std::string> lsm_label;           // nullopt: no LSM answers for the process
  std::vector<MountInfoEntry> mounts;             // in the process's mount namespace
  std::vector<CgroupEntry> cgroups;
  LimitFact memory;
  LimitFact pids;
  std::vector<pid_t> processes;    // init and its descendants
  std::vector<std::string> notes;  // facts that could not be read
};

// kIo/kPermission when the agent cannot see the host's namespaces or mounts.
[[nodiscard]] Result<HostView> collectHostView(const std::string& proc_root = "/proc");

// kNotFound when the process no longer exists (or `expected_start_time` != 0
// and the PID now belongs to another process); kMalformed for unparseable
// /proc files; kPermission when /proc denies the agent.
[[nodiscard]] Result<ProcessFacts> collectProcessFacts(pid_t pid, std::uint64_t expected_start_time,
                                                       const HostView& host,
                                                       const std::string& proc_root = "/proc");

// The text of a /proc file; kNotFound when the process is gone (ENOENT/ESRCH).
[[nodiscard]] Result<std::string> readProcFile(const std::string& path);

// `pid` and every descendant in `children` (ppid -> pid), breadth first.
std::vector<pid_t> processTree(pid_t pid, const std::multimap<pid_t, pid_t>& children);

}  // namespace bulwark::agent
