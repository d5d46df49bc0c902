// Containers from the Docker Engine API over its unix socket (Boost.Beast on a
// local stream socket). Own small client: agent/measure/ has none to share yet.
// The JSON parsers are pure and fuzzed (tests/fuzz/inspect_state_fuzz.cc).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "agent/inspect/container.h"

namespace bulwark::agent {

// GET /containers/json: id, name (leading '/' dropped), image of each entry.
[[nodiscard]] Result<std::vector<ContainerRef>> parseDockerContainerList(
    std::string_view json_text);
// GET /containers/{id}/json: State.Pid (0 when not running).
[[nodiscard]] Result<pid_t> parseDockerInspectPid(std::string_view json_text);

class DockerEngineRuntime final : public ContainerRuntime {
 public:
  explicit DockerEngineRuntime(std::string socket_path = "/var/run/docker.sock",
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::string name() const override { return "docker:" + socket_path_; }
  // A missing socket is an empty list (no Docker here); a socket that refuses
  // or answers with an error status is kUnavailable.
  [[nodiscard]] Result<std::vector<ContainerRef>> list() override;

  // One GET on the Engine API; the body on 200, kUnavailable otherwise.
  [[nodiscard]] Result<std::string> get(const std::string& target) const;

 private:
  std::string socket_path_;
  std::chrono::milliseconds timeout_;
};

}  // namespace bulwark::agent
