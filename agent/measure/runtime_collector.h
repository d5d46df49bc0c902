// Container runtime binaries (DESIGN §4 "Runtime binaries"): containerd,
// containerd-shim-*, runc, crun, dockerd, cri-o, kubelet, found through systemd
// (unit ExecStart paths and MainPID) and a /proc scan (which also finds what runs
// outside any unit). Each binary is hashed on disk (runtime-binary) and each
// running process through /proc/PID/exe (runtime-process); finishRuntime() then
// flags a process whose executable is not the file now on disk.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "agent/measure/collection.h"
#include "agent/measure/systemd_manager.h"

namespace bulwark::agent {

struct RuntimeCollectorOptions {
  std::vector<std::string> names;  // fnmatch(3) patterns on the executable's file name
  std::string proc_root = "/proc";
};

// "/usr/bin/runc (deleted)" → {"/usr/bin/runc", true}.
struct ExeLink {
  std::string path;
  bool deleted = false;
};
ExeLink parseExeLink(std::string_view link);

bool matchesRuntimeName(const std::vector<std::string>& patterns, std::string_view path);

class RuntimeCollector {
 public:
  // `systemd` may be null (no service manager): the /proc scan alone is used.
  RuntimeCollector(RuntimeCollectorOptions options, SystemdManager* systemd);
  Collection collect();

 private:
  void fromSystemd(Collection& out, std::vector<std::pair<pid_t, std::string>>& pids);
  void fromProc(std::vector<std::pair<pid_t, std::string>>& pids);

  RuntimeCollectorOptions options_;
  SystemdManager* systemd_;
  bool systemd_noted_ = false;
};

// Pure post-processing of hashed measurements: runtime-process values with the same
// (executable, digest) merge into one (attribute "pids"), and each gets
// mismatch=on-disk-differs when the runtime-binary at its path hashes differently,
// or mismatch=on-disk-missing when no file is there any more.
void finishRuntime(std::vector<Measurement>& ms);

}  // namespace bulwark::agent
