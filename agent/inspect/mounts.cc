#include "agent/inspect/mounts.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

// `path` is `prefix` or below it.
bool under(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return true;
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

std::string joinPath(std::string_view base, std::string_view rest) {
  if (rest.empty() || rest == "/") return std::string(base);
  if (base == "/") return std::string(rest);
  return strCat(base, rest);
}

std::string_view baseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

constexpr std::array<std::string_view, 4> kRuntimeSockets = {"docker.sock", "containerd.sock",
                                                             "crio.sock", "podman.sock"};
constexpr std::array<std::string_view, 8> kHostDirs = {"/",    "/boot", "/dev", "/etc",
                                                       "/lib", "/proc", "/sys", "/usr"};

std::optional<std::string> sensitiveWhy(std::string_view host_path, bool writable) {
  if (std::find(kRuntimeSockets.begin(), kRuntimeSockets.end(), baseName(host_path)) !=
      kRuntimeSockets.end()) {
    return std::string("container runtime socket: full control of the host's containers");
  }
  if (!writable) return std::nullopt;
  if (std::find(kHostDirs.begin(), kHostDirs.end(), host_path) != kHostDirs.end()) {
    return strCat("host directory ", host_path, " mounted writable");
  }
  if (under(host_path, "/proc") || under(host_path, "/sys")) {
    return strCat("host kernel interface ", host_path, " mounted writable");
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> hostPathOf(const MountInfoEntry& m,
                                      std::span<const MountInfoEntry> host_mounts) {
  // Several host mounts can show the same file (the file system's own mount
  // and bind mounts of its subtrees). Prefer the file system's root mount, at
  // the shortest mount point: that gives the canonical path ("/etc", not
  // "/mnt/etc-bind"); else the bind mount with the longest matching root.
  auto better = [](const MountInfoEntry& a, const MountInfoEntry& b) {
    const bool a_full = a.root == "/";
    const bool b_full = b.root == "/";
    if (a_full != b_full) return a_full;
    if (a_full) return a.mount_point.size() < b.mount_point.size();
    return a.root.size() > b.root.size();
  };
  const MountInfoEntry* best = nullptr;
  for (const MountInfoEntry& h : host_mounts) {
    if (h.major != m.major || h.minor != m.minor || !under(m.root, h.root)) continue;
    if (best == nullptr || better(h, *best)) best = &h;
  }
  if (best == nullptr) return std::nullopt;
  const std::string_view rest = best->root == "/"
                                    ? std::string_view(m.root)
                                    : std::string_view(m.root).substr(best->root.size());
  return joinPath(best->mount_point, rest);
}

const MountInfoEntry* rootMount(std::span<const MountInfoEntry> mounts) {
  const MountInfoEntry* root = nullptr;
  for (const MountInfoEntry& m : mounts) {
    if (m.mount_point == "/") root = &m;
  }
  return root;
}

std::vector<SensitiveMount> sensitiveMounts(std::span<const MountInfoEntry> container_mounts,
                                            std::span<const MountInfoEntry> host_mounts) {
  std::vector<SensitiveMount> out;
  for (const MountInfoEntry& m : container_mounts) {
    const auto host = hostPathOf(m, host_mounts);
    if (!host) continue;
    const bool writable = !m.readOnly();
    auto why = sensitiveWhy(*host, writable);
    if (!why) continue;
    const bool duplicate = std::any_of(out.begin(), out.end(), [&](const SensitiveMount& s) {
      return s.host_path == *host && s.mount_point == m.mount_point;
    });
    if (!duplicate) out.push_back({*host, m.mount_point, writable, std::move(*why)});
  }
  return out;
}

std::optional<CgroupLocation> cgroupLocation(std::span<const CgroupEntry> entries,
                                             std::span<const MountInfoEntry> host_mounts,
                                             std::string_view controller) {
  auto locate = [&](const CgroupEntry& e, bool v2) -> std::optional<CgroupLocation> {
    for (const MountInfoEntry& m : host_mounts) {
      const bool fs_ok = v2 ? m.fs_type == "cgroup2" : m.fs_type == "cgroup";
      if (!fs_ok) continue;
      if (!v2 && std::find(m.super_options.begin(), m.super_options.end(), controller) ==
                     m.super_options.end()) {
        continue;
      }
      if (!under(e.path, m.root)) continue;
      const std::string_view rest =
          m.root == "/" ? std::string_view(e.path) : std::string_view(e.path).substr(m.root.size());
      return CgroupLocation{joinPath(m.mount_point, rest), v2};
    }
    return std::nullopt;
  };
  for (const CgroupEntry& e : entries) {
    if (std::find(e.controllers.begin(), e.controllers.end(), controller) != e.controllers.end()) {
      if (auto loc = locate(e, false)) return loc;
    }
  }
  for (const CgroupEntry& e : entries) {
    if (e.hierarchy == 0 && e.controllers.empty()) return locate(e, true);
  }
  return std::nullopt;
}

Result<std::optional<std::uint64_t>> parseCgroupLimit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return std::optional<std::uint64_t>();
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return fail(ErrorCode::kMalformed, strCat("'", text.substr(0, 40), "' is not a limit"),
                "cgroup limit");
  }
  // cgroup v1 reports "unlimited" as PAGE_COUNTER_MAX pages in bytes (~2^63).
  if (v >= (std::uint64_t{1} << 62)) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(v);
}

}  // namespace bulwark::agent
