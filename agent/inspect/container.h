// A container as discovery finds it: identity from the runtime, its init
// process from the runtime's state, its processes from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

struct ContainerRef {
  std::string id;
  std::string name;     // runtime name; the id when the runtime has none
  std::string image;    // reference as the runtime shows it ("" when unknown)
  std::string image_digest;  // "sha256:<64 hex>" image ID when the runtime says (Docker)
  std::string runtime;  // "docker" | "runc" | "crun" | "containerd"
  pid_t pid = 0;        // init process, in the agent's PID namespace
  // /proc/PID/stat starttime the runtime recorded (0 = unknown): tells a
  // recycled PID from the container's process.
  std::uint64_t start_time = 0;
  std::string bundle;      // OCI bundle directory ("" when unknown)
  std::string state_path;  // where discovery read it (state.json, Docker API, ...)
};

// A source of containers (DESIGN.md §5: Docker Engine API, runc/crun state,
// containerd's runc state). Implementations are edges; errors mean the source
// could not be read (absent sources are not errors: they return nothing).
class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  virtual std::string name() const = 0;
  // Running containers. kUnavailable when the runtime exists but cannot be
  // queried (daemon down, permission).
  [[nodiscard]] virtual Result<std::vector<ContainerRef>> list() = 0;
};

}  // namespace bulwark::agent
