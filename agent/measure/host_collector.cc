#include "agent/measure/host_collector.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <filesystem>
#include <sstream>
#include <system_error>

#include "agent/measure/path_expander.h"
#include "attest/core/digest.h"

namespace bulwark::agent {

namespace {

namespace fs = std::filesystem;

bool isFile(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string stripModuleSuffix(const std::string& file) {
  for (std::string_view suffix : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    if (file.size() > suffix.size() && file.ends_with(suffix)) {
      return file.substr(0, file.size() - suffix.size());
    }
  }
  return {};
}

}  // namespace

void Collection::append(Collection other) {
  for (auto& f : other.files) files.push_back(std::move(f));
  for (auto& d : other.direct) direct.push_back(std::move(d));
  for (auto& n : other.notes) notes.push_back(std::move(n));
  for (auto& w : other.watch_dirs) watch_dirs.push_back(std::move(w));
}

std::string normalizeModuleName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

std::vector<LoadedModule> parseProcModules(std::string_view text) {
  std::vector<LoadedModule> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    LoadedModule m;
    if (!(fields >> m.name >> m.size)) continue;
    if (m.name.empty() || m.name.size() > 64) continue;
    out.push_back(std::move(m));
  }
  return out;
}

std::map<std::string, std::string> indexModuleFiles(const std::string& release_dir) {
  std::map<std::string, std::string> index;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(release_dir,
                                             fs::directory_options::skip_permission_denied, ec);
  if (ec) return index;
  for (auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
    if (ec) break;
    std::string base = stripModuleSuffix(it->path().filename().string());
    if (base.empty()) continue;
    std::error_code sec;
    if (!it->is_regular_file(sec)) continue;
    index.emplace(normalizeModuleName(base), it->path().string());
  }
  return index;
}

HostCollector::HostCollector(HostCollectorOptions options) : options_(std::move(options)) {
  if (options_.kernel_release.empty()) {
    struct utsname u {};
    if (::uname(&u) == 0) options_.kernel_release = u.release;
  }
}

void HostCollector::collectModules(Collection& out) {
  auto text = readFile(options_.proc_root + "/modules", 4u << 20);
  if (!text) {
    // No /proc/modules: a kernel without loadable module support.
    if (text.error().code() != ErrorCode::kNotFound) {
      out.notes.push_back("modules: " + text.error().toString());
    }
    return;
  }
  if (!indexed_) {
    module_index_ = indexModuleFiles(options_.modules_root + "/" + options_.kernel_release);
    indexed_ = true;
  }
  std::string_view view(reinterpret_cast<const char*>(text->data()), text->size());
  for (const auto& m : parseProcModules(view)) {
    auto it = module_index_.find(normalizeModuleName(m.name));
    if (it != module_index_.end()) {
      out.files.push_back({std::string(kKindModule), m.name, it->second, {{"file", it->second}}});
      continue;
    }
    // Loaded but no file to hash: still measured (name and size), flagged, so a
    // module loaded from elsewhere is not silently absent from the log.
    Measurement meas{std::string(kKindModule),
                     m.name,
                     sha256(asBytes(m.name + " " + m.size)),
                     {{"file", "not-found"}, {"size", m.size}}};
    out.direct.push_back(std::move(meas));
  }
}

Collection HostCollector::collect() {
  Collection out;
  if (options_.system) collectSystem(out);
  auto expanded = expandIncludes(options_.include);
  for (auto& f : expanded.files) out.files.push_back({std::string(kKindHostFile), f, f, {}});
  for (auto& n : expanded.notes) out.notes.push_back(std::move(n));
  return out;
}

void HostCollector::collectSystem(Collection& out) {
  std::string kernel = options_.boot_dir + "/vmlinuz-" + options_.kernel_release;
  if (isFile(kernel)) {
    out.files.push_back(
        {std::string(kKindKernel), kernel, kernel, {{"release", options_.kernel_release}}});
  } else {
    out.notes.push_back("kernel image " + kernel + " not present; kernel not measured");
  }
  auto cmdline = readFile(options_.proc_root + "/cmdline", 1u << 16);
  if (cmdline) {
    out.direct.push_back({std::string(kKindCmdline), "/proc/cmdline", sha256(*cmdline), {}});
  } else {
    out.notes.push_back("cmdline: " + cmdline.error().toString());
  }
  if (isFile(options_.os_release)) {
    out.files.push_back({std::string(kKindHostFile), options_.os_release, options_.os_release, {}});
  } else {
    out.notes.push_back(options_.os_release + " not present");
  }
  collectModules(out);
}

}  // namespace bulwark::agent
