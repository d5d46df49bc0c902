// Mount and cgroup facts of a container, derived from its /proc/PID/mountinfo
// and /proc/PID/cgroup and the host's mountinfo. Pure.
//
// Host paths: a mount inside the container is (device, root-inside-that-fs).
// The host path is found by matching the device against the host's mounts and
// replacing the host mount's root by its mount point — so a bind mount of
// /run/docker.sock shows as "/run/docker.sock" whatever the container calls it.
// Pseudo file systems that get a new superblock per mount (a container's own
// proc, tmpfs, devpts, mqueue) never match a host mount; sysfs matches when
// the container shares the host's network namespace, as it should.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/inspect/proc_parse.h"

namespace bulwark::agent {

// The host path of `m`, or nullopt when no host mount has its device.
std::optional<std::string> hostPathOf(const MountInfoEntry& m,
                                      std::span<const MountInfoEntry> host_mounts);

// The mount at "/" that the process sees (the last one stacked there).
const MountInfoEntry* rootMount(std::span<const MountInfoEntry> mounts);

struct SensitiveMount {
  std::string host_path;
  std::string mount_point;  // inside the container
  bool writable = false;
  std::string why;  // "container runtime socket", "host directory / writable", ...
};

// Runtime sockets (docker.sock, containerd.sock, crio.sock, podman.sock, by file
// name, read-only or not: connect(2) needs no write permission on the mount),
// and the host directories of CIS Docker 5.5 (/, /boot, /dev, /etc, /lib,
// /proc, /sys, /usr) or anything below /proc and /sys, when writable.
std::vector<SensitiveMount> sensitiveMounts(std::span<const MountInfoEntry> container_mounts,
                                            std::span<const MountInfoEntry> host_mounts);

// Where a cgroup controller's files are for a process, from the reader's view.
struct CgroupLocation {
  std::string dir;  // e.g. /sys/fs/cgroup/pids/docker/<id> or /sys/fs/cgroup/<path>
  bool v2 = false;
};

// `controller` ("memory", "pids") of the process whose /proc/PID/cgroup is
// `entries`, using the reader's mounts: a v1 hierarchy with that controller if
// one is mounted, else the v2 unified hierarchy. nullopt when neither is found.
std::optional<CgroupLocation> cgroupLocation(std::span<const CgroupEntry> entries,
                                             std::span<const MountInfoEntry> host_mounts,
                                             std::string_view controller);

// Interprets a limit file's content: memory.max / pids.max ("max" = none),
// v1 memory.limit_in_bytes (>= 2^62 = none: PAGE_COUNTER_MAX rounded to pages).
// nullopt for "no limit", the value otherwise; kMalformed for anything else.
[[nodiscard]] Result<std::optional<std::uint64_t>> parseCgroupLimit(std::string_view text);

}  // namespace bulwark::agent
