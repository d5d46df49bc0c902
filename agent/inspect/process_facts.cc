#include "agent/inspect/process_facts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>

#include "agent/inspect/mounts.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

constexpr std::size_t kProcFileLimit = 4u << 20;  // mountinfo of a busy host stays far below

std::unexpected<Error> gone(pid_t pid) {
  return fail(ErrorCode::kNotFound, "process no longer exists", strCat("pid ", pid));
}

Result<std::map<std::string, NamespaceId>> namespacesOf(const std::string& dir, bool all_required) {
  std::map<std::string, NamespaceId> out;
  for (const std::string& kind : namespaceKinds()) {
    struct stat st {};
    const std::string path = dir + "/ns/" + kind;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT && kind == "cgroup") continue;  // kernel without cgroup namespaces
      if (all_required) return fail(ErrorCode::kPermission, std::strerror(errno), path);
      continue;
    }
    out[kind] =
        NamespaceId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  }
  return out;
}

// AppArmor's own attr file first (stacked LSMs, Linux >= 5.1), then the
// generic one. EINVAL/ENOENT/empty: no LSM labels this process.
std::optional<std::string> lsmLabel(const std::string& dir) {
  for (const char* f : {"/attr/apparmor/current", "/attr/current"}) {
    auto text = readProcFile(dir + f);
    if (!text) continue;
    std::string label = *text;
    while (!label.empty() && (label.back() == '\n' || label.back() == '\0')) label.pop_back();
    if (!label.empty()) return label;
  }
  return std::nullopt;
}

LimitFact readLimit(const ProcessFacts& f, const HostView& host, std::string_view controller,
                    std::string_view v1_file, std::string_view v2_file) {
  LimitFact fact;
  const auto loc = cgroupLocation(f.cgroups, host.mounts, controller);
  if (!loc) {
    fact.problem = strCat("no ", controller, " cgroup hierarchy found");
    return fact;
  }
  fact.file = strCat(loc->dir, "/", loc->v2 ? v2_file : v1_file);
  auto text = readProcFile(fact.file);
  if (!text) {
    fact.problem = text.error().toString();
    return fact;
  }
  auto limit = parseCgroupLimit(*text);
  if (!limit) {
    fact.problem = limit.error().toString();
    return fact;
  }
  fact.known = true;
  fact.limit = *limit;
  return fact;
}

Result<void> readStatusAndStat(ProcessFacts& f, const std::string& dir, std::uint64_t start) {
  auto stat_text = readProcFile(dir + "/stat");
  if (!stat_text) return std::unexpected(stat_text.error());
  auto stat = parseProcStat(*stat_text);
  if (!stat) return std::unexpected(stat.error());
  if (start != 0 && stat->start_time != start) return gone(f.pid);
  if (stat->state == 'Z' || stat->state == 'X') return gone(f.pid);
  f.stat = *stat;
  auto status_text = readProcFile(dir + "/status");
  if (!status_text) return std::unexpected(status_text.error());
  auto status = parseProcStatus(*status_text);
  if (!status) return std::unexpected(status.error());
  f.status = std::move(*status);
  return {};
}

}  // namespace

const std::vector<std::string>& namespaceKinds() {
  static const std::vector<std::string> kKinds = {"pid", "net",    "ipc", "uts",
                                                  "mnt", "cgroup", "user"};
  return kKinds;
}

Result<std::string> readProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ESRCH) return fail(ErrorCode::kNotFound, "no longer exists", path);
    return fail(err == EACCES || err == EPERM ? ErrorCode::kPermission : ErrorCode::kIo,
                std::strerror(err), path);
  }
  std::string out;
  char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      if (err == ESRCH) return fail(ErrorCode::kNotFound, "no longer exists", path);
      return fail(err == EINVAL ? ErrorCode::kUnsupported : ErrorCode::kIo, std::strerror(err),
                  path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > kProcFileLimit) {
      ::close(fd);
      return fail(ErrorCode::kMalformed, "file too large", path);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<pid_t> processTree(pid_t pid, const std::multimap<pid_t, pid_t>& children) {
  std::vector<pid_t> out;
  std::set<pid_t> seen;
  std::deque<pid_t> queue{pid};
  while (!queue.empty()) {
    const pid_t p = queue.front();
    queue.pop_front();
    if (!seen.insert(p).second) continue;
    out.push_back(p);
    auto [lo, hi] = children.equal_range(p);
    for (auto it = lo; it != hi; ++it) queue.push_back(it->second);
  }
  return out;
}

Result<HostView> collectHostView(const std::string& proc_root) {
  HostView host;
  auto ns = namespacesOf(proc_root + "/1", true);
  host.reference = proc_root + "/1";
  if (!ns) {
    // PID 1 may be unreadable (another user namespace, hardened /proc): the
    // agent's own namespaces are then the reference; it must run on the host.
    ns = namespacesOf(proc_root + "/self", true);
    host.reference = proc_root + "/self";
  }
  if (!ns) return std::unexpected(ns.error());
  host.namespaces = std::move(*ns);
  auto mi = readProcFile(proc_root + "/self/mountinfo");
  if (!mi) return std::unexpected(mi.error());
  auto mounts = parseMountInfo(*mi);
  if (!mounts) return std::unexpected(mounts.error());
  host.mounts = std::move(*mounts);
  if (auto last = readProcFile(proc_root + "/sys/kernel/cap_last_cap")) {
    int v = 0;
    auto [p, ec] = std::from_chars(last->data(), last->data() + last->size(), v);
    if (ec == std::errc() && v > 0 && v < 64) host.cap_last_cap = v;
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(proc_root, ec)) {
    const std::string name = e.path().filename().string();
    pid_t p = 0;
    auto [ptr, perr] = std::from_chars(name.data(), name.data() + name.size(), p);
    if (perr != std::errc() || ptr != name.data() + name.size()) continue;
    auto text = readProcFile(e.path().string() + "/stat");
    if (!text) continue;
    if (auto st = parseProcStat(*text)) host.children.emplace(static_cast<pid_t>(st->ppid), p);
  }
  return host;
}

Result<ProcessFacts> collectProcessFacts(pid_t pid, std::uint64_t expected_start_time,
                                         const HostView& host, const std::string& proc_root) {
  ProcessFacts f;
  f.pid = pid;
  if (pid <= 0) return fail(ErrorCode::kInvalidArgument, "bad pid", "inspect");
  const std::string dir = strCat(proc_root, "/", pid);
  if (auto ok = readStatusAndStat(f, dir, expected_start_time); !ok)
    return std::unexpected(ok.error());
  auto ns = namespacesOf(dir, false);
  if (!ns) return std::unexpected(ns.error());
  f.namespaces = std::move(*ns);
  for (const std::string& kind : namespaceKinds()) {
    if (!f.namespaces.count(kind) && host.namespaces.count(kind)) {
      f.notes.push_back(strCat("cannot read ", dir, "/ns/", kind));
    }
  }
  f.lsm_label = lsmLabel(dir);
  auto mi = readProcFile(dir + "/mountinfo");
  if (!mi) return std::unexpected(mi.error());
  auto mounts = parseMountInfo(*mi);
  if (!mounts) return std::unexpected(mounts.error());
  f.mounts = std::move(*mounts);
  auto cg = readProcFile(dir + "/cgroup");
  if (!cg) return std::unexpected(cg.error());
  auto cgroups = parseProcCgroup(*cg);
  if (!cgroups) return std::unexpected(cgroups.error());
  f.cgroups = std::move(*cgroups);
  f.memory = readLimit(f, host, "memory", "memory.limit_in_bytes", "memory.max");
  f.pids = readLimit(f, host, "pids", "pids.max", "pids.max");
  f.processes = processTree(pid, host.children);
  return f;
}

}  // namespace bulwark::agent
