#include "agent/measure/runtime_collector.h"

#include <dirent.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace bulwark::agent {

namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

std::string baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool allDigits(const char* s) {
  if (!*s) return false;
  for (; *s; ++s) {
    if (!std::isdigit(static_cast<unsigned char>(*s))) return false;
  }
  return true;
}

std::string readLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

ExeLink parseExeLink(std::string_view link) {
  if (link.ends_with(kDeletedSuffix)) {
    return {std::string(link.substr(0, link.size() - kDeletedSuffix.size())), true};
  }
  return {std::string(link), false};
}

bool matchesRuntimeName(const std::vector<std::string>& patterns, std::string_view path) {
  std::string base = baseName(path);
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    return ::fnmatch(p.c_str(), base.c_str(), 0) == 0;
  });
}

RuntimeCollector::RuntimeCollector(RuntimeCollectorOptions options, SystemdManager* systemd)
    : options_(std::move(options)), systemd_(systemd) {}

void RuntimeCollector::fromSystemd(Collection& out,
                                   std::vector<std::pair<pid_t, std::string>>& pids) {
  if (!systemd_) return;
  auto units = systemd_->listServices();
  if (!units) {
    // Once per agent run: the /proc scan covers the same ground.
    if (!systemd_noted_) {
      out.notes.push_back("systemd not reachable, using the /proc scan only: " +
                          units.error().toString());
      systemd_noted_ = true;
    }
    return;
  }
  for (const auto& unit : *units) {
    bool runtime = false;
    for (const auto& exec : unit.exec_paths) {
      if (!matchesRuntimeName(options_.names, exec)) continue;
      runtime = true;
      out.files.push_back({std::string(kKindRuntimeBinary), exec, exec, {{"unit", unit.name}}});
    }
    if (runtime && unit.main_pid > 0) pids.emplace_back(unit.main_pid, unit.name);
  }
}

void RuntimeCollector::fromProc(std::vector<std::pair<pid_t, std::string>>& pids) {
  DIR* d = ::opendir(options_.proc_root.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (!allDigits(e->d_name)) continue;
    std::string link = readLink(options_.proc_root + "/" + e->d_name + "/exe");
    // Kernel threads and processes we may not inspect have no readable link.
    if (link.empty() || !matchesRuntimeName(options_.names, parseExeLink(link).path)) continue;
    pids.emplace_back(static_cast<pid_t>(std::stol(e->d_name)), "");
  }
  ::closedir(d);
}

Collection RuntimeCollector::collect() {
  Collection out;
  std::vector<std::pair<pid_t, std::string>> pids;
  fromSystemd(out, pids);
  fromProc(pids);
  std::map<pid_t, std::string> by_pid;  // pid → unit ("" when found by the scan)
  for (auto& [pid, unit] : pids) {
    auto& u = by_pid[pid];
    if (u.empty()) u = unit;
  }
  std::set<std::string> binaries;
  for (const auto& f : out.files) binaries.insert(f.path);
  for (const auto& [pid, unit] : by_pid) {
    std::string proc = options_.proc_root + "/" + std::to_string(pid);
    std::string link = readLink(proc + "/exe");
    if (link.empty()) {
      out.notes.push_back("process " + std::to_string(pid) +
                          (unit.empty() ? "" : " (" + unit + ")") +
                          " exited or is not readable; not measured");
      continue;
    }
    ExeLink exe = parseExeLink(link);
    FileTarget t{std::string(kKindRuntimeProcess), exe.path, proc + "/exe",
                 {{"pid", std::to_string(pid)}},   true,     false};
    if (!unit.empty()) t.attributes["unit"] = unit;
    if (exe.deleted) t.attributes["deleted"] = "true";
    out.files.push_back(std::move(t));
    if (binaries.insert(exe.path).second) {
      out.files.push_back({std::string(kKindRuntimeBinary), exe.path, exe.path, {}});
    }
  }
  return out;
}

void finishRuntime(std::vector<Measurement>& ms) {
  std::map<std::string, Bytes> on_disk;  // copies: `ms` is moved from below
  for (const auto& m : ms) {
    if (m.kind == kKindRuntimeBinary) on_disk[m.subject] = m.sha256;
  }
  std::vector<Measurement> out;
  std::map<std::pair<std::string, Bytes>, std::size_t> merged;  // (exe, digest) → index
  for (auto& m : ms) {
    if (m.kind != kKindRuntimeProcess) {
      out.push_back(std::move(m));
      continue;
    }
    auto key = std::make_pair(m.subject, m.sha256);
    auto it = merged.find(key);
    std::string pid = m.attributes.count("pid") ? m.attributes.at("pid") : "";
    if (it != merged.end()) {
      auto& pids = out[it->second].attributes["pids"];
      pids += "," + pid;
      continue;
    }
    m.attributes.erase("pid");
    m.attributes["pids"] = pid;
    auto disk = on_disk.find(m.subject);
    if (disk == on_disk.end()) {
      m.attributes[std::string(kAttrMismatch)] = std::string(kMismatchOnDiskMissing);
    } else if (disk->second != m.sha256) {
      m.attributes[std::string(kAttrMismatch)] = std::string(kMismatchOnDiskDiffers);
    }
    merged.emplace(key, out.size());
    out.push_back(std::move(m));
  }
  ms = std::move(out);
}

}  // namespace bulwark::agent
