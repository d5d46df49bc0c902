// Containers from OCI runtime state on disk (DESIGN §4 "Images"): runc's
// <root>/<id>/state.json (bundle in config.labels "bundle=<dir>"), crun's
// <root>/<id>/status ("bundle"), both also one namespace level down
// (<root>/<ns>/<id>/, as containerd lays out runc state), and containerd's task
// state <task_root>/<ns>/<id>/ (the bundle itself: config.json, init.pid). The
// bundle's config.json annotations give the image when a CRI runtime recorded it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/measure/container_image_source.h"

namespace bulwark::agent {

struct OciState {
  std::string id;
  pid_t pid = 0;
  std::string bundle;
};

// runc state.json or crun status JSON. kMalformed for anything else.
[[nodiscard]] Result<OciState> parseOciState(std::string_view json_text);
// Annotations of an OCI runtime-spec config.json (runtime-spec §config "annotations").
[[nodiscard]] Result<std::map<std::string, std::string>> parseBundleAnnotations(
    std::string_view json_text);
// Image digest and reference from well-known CRI annotations (docs/agent.md):
// io.kubernetes.cri-o.ImageRef / io.kubernetes.cri.image-id (digest),
// io.kubernetes.cri-o.ImageName / io.kubernetes.cri.image-name /
// org.opencontainers.image.ref.name (reference).
void imageFromAnnotations(RunningContainer& c);

struct OciStateOptions {
  std::vector<std::string> state_roots;  // runc/crun
  std::vector<std::string> task_roots;   // containerd io.containerd.runtime.v2.task
  std::string proc_root = "/proc";
};

class OciStateImageSource final : public ContainerImageSource {
 public:
  explicit OciStateImageSource(OciStateOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "oci-state"; }
  Result<ContainerListing> listRunning() override;
  std::vector<std::string> watchDirectories() const override;

 private:
  void readStateDir(const std::string& dir, const std::string& source, ContainerListing& out);
  void readTaskDir(const std::string& dir, ContainerListing& out);
  void addContainer(RunningContainer c, ContainerListing& out);

  OciStateOptions options_;
};

}  // namespace bulwark::agent
