// Host OS collector (DESIGN §4 "Host OS"): the running kernel image
// (<boot>/vmlinuz-$(uname -r) when present), /proc/cmdline, /etc/os-release, the
// loaded modules of /proc/modules (name + hash of the module file found under
// <modules>/$(uname -r)) and the configured include globs.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/measure/collection.h"

namespace bulwark::agent {

struct HostCollectorOptions {
  std::string proc_root = "/proc";
  std::string boot_dir = "/boot";
  std::string modules_root = "/lib/modules";
  std::string os_release = "/etc/os-release";
  std::string kernel_release;  // "" = uname(2) release
  std::vector<std::string> include;
  // false: only `include` (kernel, cmdline, os-release and modules are skipped).
  bool system = true;
};

struct LoadedModule {
  std::string name;
  std::string size;  // as /proc/modules prints it
};

// Parses /proc/modules text ("name size refcount deps state address" per line).
// Malformed lines are skipped; names are kept as printed.
std::vector<LoadedModule> parseProcModules(std::string_view text);

// Module name (kernel form, '-' as '_') → file, from a walk of <root>/<release>
// (*.ko, *.ko.xz, *.ko.zst, *.ko.gz).
std::map<std::string, std::string> indexModuleFiles(const std::string& release_dir);

// kernel module name normalisation: the kernel treats '-' and '_' alike.
std::string normalizeModuleName(std::string_view name);

class HostCollector {
 public:
  explicit HostCollector(HostCollectorOptions options);
  Collection collect();

 private:
  void collectSystem(Collection& out);
  void collectModules(Collection& out);

  HostCollectorOptions options_;
  std::map<std::string, std::string> module_index_;  // built once per agent run
  bool indexed_ = false;
};

}  // namespace bulwark::agent
