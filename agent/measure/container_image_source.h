// A source of running containers and their images (DESIGN §4 "Images"):
// DockerImageSource (Docker Engine API over its unix socket) and
// OciStateImageSource (runc/crun state directories and containerd's task state).
// Named apart from agent/inspect's ContainerRuntime (container discovery for
// isolation checks), which needs processes rather than image identities.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

struct RunningContainer {
  std::string source;  // "docker", "runc", "crun", "containerd"
  std::string id;      // container id
  std::string name;    // human name when the runtime has one
  pid_t pid = 0;       // init process, 0 when unknown
  // Image identity. image_digest: "sha256:<64 hex>" (Docker's image ID = config
  // digest, or an image-digest annotation); empty when the runtime does not say.
  std::string image_digest;
  std::string image_ref;                           // a tag or repo@digest; "" when unknown
  std::vector<std::string> repo_digests;           // registry manifest digests (Docker)
  std::string bundle;                              // OCI bundle dir (OCI state), "" otherwise
  std::string config_path;                         // bundle config.json for an OCI bundle
  std::map<std::string, std::string> annotations;  // config.json annotations
};

struct ContainerListing {
  std::vector<RunningContainer> containers;
  std::vector<std::string> notes;  // vanished containers, unreadable state, ...
};

class ContainerImageSource {
 public:
  virtual ~ContainerImageSource() = default;
  virtual std::string name() const = 0;
  // Running containers now. kUnavailable when the runtime is not there (no socket,
  // no state dir): the engine notes it once and goes on.
  [[nodiscard]] virtual Result<ContainerListing> listRunning() = 0;
  // Directories whose entries appear/disappear as containers start/stop (for the
  // change watcher); may be empty.
  virtual std::vector<std::string> watchDirectories() const = 0;
};

}  // namespace bulwark::agent
