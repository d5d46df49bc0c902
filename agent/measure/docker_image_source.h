// Running containers and their images from the Docker Engine API over its unix
// socket (GET /containers/json, GET /images/{id}/json): image ID (the config
// digest, "sha256:...") and RepoDigests. Docker's own container/runc state is not
// parsed: the API is the stable interface.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "agent/measure/container_image_source.h"

namespace bulwark::agent {

struct DockerContainerEntry {
  std::string id, name, image, image_id, state;
};
struct DockerImageEntry {
  std::string id;
  std::vector<std::string> repo_tags, repo_digests;
};

// Pure parsers of the Engine API answers (untrusted bytes: kMalformed on anything
// that is not the documented shape; unknown members are ignored).
[[nodiscard]] Result<std::vector<DockerContainerEntry>> parseDockerContainers(
    std::string_view text);
[[nodiscard]] Result<DockerImageEntry> parseDockerImage(std::string_view text);

class DockerImageSource final : public ContainerImageSource {
 public:
  explicit DockerImageSource(std::string socket_path,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : socket_(std::move(socket_path)), timeout_(timeout) {}
  std::string name() const override { return "docker"; }
  // No socket: an empty listing (Docker is not installed). A socket that does not
  // answer: kUnavailable.
  Result<ContainerListing> listRunning() override;
  std::vector<std::string> watchDirectories() const override { return {}; }

 private:
  Result<std::string> get(const std::string& target);
  std::string socket_;
  std::chrono::milliseconds timeout_;
};

}  // namespace bulwark::agent
