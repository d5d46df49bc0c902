// Test harness: real runc containers from a busybox-static rootfs.
//
// RuncHarness::create() makes a private temp dir with its own runc state root
// (never /run/runc) and a rootfs template (busybox copied into rootfs/bin with
// sh and sleep symlinks). run() writes an OCI config.json from a RuncSpec into
// a fresh bundle and starts the container detached (`runc create` with stdio on
// /dev/null, then `runc start`). The destructor kills and deletes every
// container it started and removes the temp dir.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::testing {

struct RuncMount {
  std::string source;       // host path
  std::string destination;  // in the container
  bool read_only = false;
};

// Config variations. The defaults are a hardened container: its own pid,
// network, ipc, uts, mount and cgroup namespaces, uid 1000, no capabilities,
// no_new_privs, read-only rootfs, memory and pids limits, and the seccomp
// profile in `seccomp` (null = none; see dockerSeccompProfile()).
// `user_namespace` adds a user namespace mapping 0..65535 to 100000.. (then
// uid 0 is root only inside it).
struct RuncSpec {
  std::vector<std::string> args = {"sleep", "1000"};
  std::vector<std::string>
      host_namespaces;  // OCI types to leave out: pid, network, ipc, uts, mount, cgroup
  bool user_namespace = false;
  std::uint32_t uid = 1000;
  std::vector<std::string> capabilities;  // CAP_ names in every set
  bool no_new_privileges = true;
  bool readonly_rootfs = true;
  std::optional<std::int64_t> memory_limit = 64 << 20;
  std::optional<std::int64_t> pids_limit = 64;
  nlohmann::json seccomp;  // OCI linux.seccomp object or null
  std::vector<RuncMount> mounts;
};

struct RuncContainer {
  std::string id;
  pid_t pid = 0;
  std::string bundle;
};

class RuncHarness {
 public:
  // kUnavailable (with the reason) when runc or busybox is missing or we are not root.
  static Result<std::unique_ptr<RuncHarness>> create();
  ~RuncHarness();
  RuncHarness(const RuncHarness&) = delete;
  RuncHarness& operator=(const RuncHarness&) = delete;

  Result<RuncContainer> run(const std::string& id, const RuncSpec& spec);
  // SIGKILL and `runc delete --force`.
  void remove(const std::string& id);

  const std::string& stateRoot() const { return state_root_; }
  const std::string& dir() const { return dir_; }

  // The OCI config.json the harness writes for `spec` (exposed for tests).
  nlohmann::json ociConfig(const RuncSpec& spec) const;

 private:
  RuncHarness() = default;
  Result<void> runRunc(const std::vector<std::string>& args, std::string* output) const;

  std::string dir_;
  std::string state_root_;
  std::string rootfs_template_;
  std::vector<std::string> started_;
};

// Docker's seccomp profile (moby JSON format: includes/excludes by arch, caps,
// minKernel) turned into an OCI linux.seccomp object for x86_64 the way moby
// does for a container holding `caps` on this kernel. `also_allow` adds an
// SCMP_ACT_ALLOW rule (a deliberately permissive variant).
Result<nlohmann::json> dockerSeccompProfile(const std::string& moby_json_path,
                                            const std::vector<std::string>& caps = {},
                                            const std::vector<std::string>& also_allow = {});

// Runs argv (no shell), stdin/stdout on /dev/null, stderr captured.
struct ExecResult {
  int exit_code = -1;
  std::string stderr_text;
};
ExecResult execCapture(const std::vector<std::string>& argv);

}  // namespace bulwark::testing
