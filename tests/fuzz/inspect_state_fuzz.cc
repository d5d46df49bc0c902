// Fuzz target: untrusted JSON the inspector reads — runc/crun state files,
// OCI config.json annotations, Docker Engine API answers — and the data files
// it validates (control catalog, isolation profiles). First byte selects.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/inspect/controls.h"
#include "agent/inspect/docker_engine.h"
#include "agent/inspect/isolation_profile.h"
#include "agent/inspect/runtime_state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bulwark::agent;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0:
      (void)parseRuntimeState(text);
      break;
    case 1:
      (void)imageFromOciConfig(text);
      break;
    case 2:
      (void)parseDockerContainerList(text);
      break;
    case 3:
      (void)parseDockerInspectPid(text);
      break;
    case 4:
      if (auto c = ControlCatalog::parse(text)) {
        for (const ControlInfo& info : c->controls()) {
          (void)c->severityOf(info.id + ":CAP_SYS_ADMIN");
          (void)c->refsOf(info.id);
        }
      }
      break;
    default:
      if (auto p = parseIsolationProfile(text)) {
        (void)judge(*p, "seccomp-allows:ptrace", "medium");
        (void)judge(*p, "capability:CAP_SYS_ADMIN", "critical");
        (void)judge(*p, "sensitive-mount:/run/docker.sock", "critical");
      }
      break;
  }
  return 0;
}
