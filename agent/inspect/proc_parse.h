// Parsers for the /proc files isolation inspection reads (proc(5)). Pure: they
// take the file's text and return values, so they are unit-tested and fuzzed
// (tests/fuzz/inspect_proc_fuzz.cc). The text comes from processes inside
// containers (comm names, mount paths), so it is untrusted: any malformed line
// is a kMalformed error naming the line, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

// The fields of /proc/PID/status inspection needs (proc(5) "status").
struct ProcStatus {
  std::string name;            // Name:
  char state = '?';            // State: first letter (R, S, D, T, t, Z, ...)
  std::int64_t ppid = 0;       // PPid:
  std::uint32_t uid_real = 0;  // Uid: real, effective, saved, fs
  std::uint32_t uid_effective = 0;
  std::uint64_t cap_eff = 0;           // CapEff: hex mask
  std::uint64_t cap_bnd = 0;           // CapBnd:
  std::uint64_t cap_prm = 0;           // CapPrm:
  std::optional<int> no_new_privs;     // NoNewPrivs: (kernel >= 4.10)
  std::optional<int> seccomp;          // Seccomp: 0 disabled, 1 strict, 2 filter
  std::optional<int> seccomp_filters;  // Seccomp_filters: (kernel >= 5.9)
};

// kMalformed when a field inspection relies on (State, Uid, CapEff, CapBnd) is
// missing or any recognised field has a bad value.
[[nodiscard]] Result<ProcStatus> parseProcStatus(std::string_view text);

// One line of /proc/PID/mountinfo (proc(5) "mountinfo"); paths have the
// kernel's octal escapes (\040 for space, ...) decoded.
struct MountInfoEntry {
  std::uint32_t mount_id = 0;
  std::uint32_t parent_id = 0;
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string root;                        // path of the mount's root inside its file system
  std::string mount_point;                 // relative to the reader's root
  std::vector<std::string> mount_options;  // per-mount: rw|ro, nosuid, ...
  std::string fs_type;
  std::string source;
  std::vector<std::string> super_options;  // per-superblock: rw|ro, cgroup controllers, ...

  bool readOnly() const;  // per-mount "ro" (the superblock flag is not what the mount enforces)
};

[[nodiscard]] Result<std::vector<MountInfoEntry>> parseMountInfo(std::string_view text);

// One line of /proc/PID/cgroup: "hierarchy-ID:controller-list:path".
// Hierarchy 0 with an empty list is the cgroup v2 unified hierarchy.
struct CgroupEntry {
  std::uint32_t hierarchy = 0;
  std::vector<std::string> controllers;  // "memory", "pids", "name=systemd", ...
  std::string path;
};

[[nodiscard]] Result<std::vector<CgroupEntry>> parseProcCgroup(std::string_view text);

// Fields of /proc/PID/stat after the parenthesised comm (which may itself
// contain spaces and ')'): state, ppid and starttime (field 22, clock ticks
// since boot; identifies the process across PID reuse).
struct ProcStat {
  char state = '?';
  std::int64_t ppid = 0;
  std::uint64_t start_time = 0;
};

[[nodiscard]] Result<ProcStat> parseProcStat(std::string_view text);

// Decodes the kernel's octal escapes in mountinfo paths ("\040" -> ' ').
std::string unescapeMountPath(std::string_view s);

}  // namespace bulwark::agent
