// OCI runtime state on disk: runc's <root>/<id>/state.json, crun's
// <root>/<id>/status, and containerd's runc shim state under
// /run/containerd/runc/<namespace>/<id>/state.json. The parsers are pure and
// fuzzed (tests/fuzz/inspect_state_fuzz.cc): state roots may be writable by
// less trusted software, so the text is untrusted.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/inspect/container.h"

namespace bulwark::agent {

// runc state.json (libcontainer State) or crun status. Fills id, pid,
// start_time (runc only), bundle (runc: config.labels "bundle=<dir>", crun:
// "bundle"). kMalformed for invalid JSON, a missing id or pid, a pid <= 0.
[[nodiscard]] Result<ContainerRef> parseRuntimeState(std::string_view json_text);

// The image reference an OCI config.json records in its annotations
// (io.kubernetes.cri.image-name, org.opencontainers.image.ref.name, ...);
// "" when none, kMalformed for invalid JSON.
[[nodiscard]] Result<std::string> imageFromOciConfig(std::string_view json_text);

// Containers of one runc/crun state root. A missing root is an empty list.
class StateDirRuntime final : public ContainerRuntime {
 public:
  // `runtime` labels the containers ("runc", "crun", "containerd");
  // `name_prefix` is prepended to ids for names ("k8s.io/").
  StateDirRuntime(std::string root, std::string runtime, std::string name_prefix = {});
  std::string name() const override { return runtime_ + ":" + root_; }
  // Unreadable or malformed entries are skipped and remembered in problems().
  [[nodiscard]] Result<std::vector<ContainerRef>> list() override;
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::string root_;
  std::string runtime_;
  std::string name_prefix_;
  std::vector<std::string> problems_;
};

// The default sources: runc (/run/runc), crun (/run/crun), Docker's runc state
// (/run/docker/runtime-runc/<ns>) and containerd's (/run/containerd/runc/<ns>),
// plus `extra_roots` ("[runtime=]dir", runtime defaults to runc).
std::vector<std::unique_ptr<StateDirRuntime>> defaultStateRuntimes(
    const std::vector<std::string>& extra_roots, bool include_defaults);

}  // namespace bulwark::agent
