// A MeasurementSource that adds the isolation inspection of every running
// container (agent/inspect/, DESIGN §5) to what `inner` collects. The reports
// travel in the Evidence, bound by the quote through the report hash, never in
// a PCR (issue 4). Every finding is sent, not only the local profile's
// violations: the verifier applies the profile of the node's group.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/cycle/measurement_source.h"
#include "agent/inspect/docker_engine.h"
#include "agent/inspect/inspector.h"
#include "agent/inspect/runtime_state.h"

namespace bulwark::agent {

class InspectingSource final : public MeasurementSource {
 public:
  // Errors: the profiles directory or the named profile cannot be loaded (the
  // operator must fix the configuration; inspection is never silently skipped).
  [[nodiscard]] static Result<std::unique_ptr<InspectingSource>> create(
      MeasurementSource& inner, const InspectConfig& config, const std::string& docker_socket);

  Result<Collected> collect(std::uint32_t selected_pcrs) override;

 private:
  InspectingSource(MeasurementSource& inner, InspectorConfig config,
                   const InspectConfig& inspect, const std::string& docker_socket);

  MeasurementSource& inner_;
  PtraceSeccompDumper dumper_;
  Inspector inspector_;  // one per process: caches the evaluated seccomp chains
  std::unique_ptr<DockerEngineRuntime> docker_;
  std::vector<std::unique_ptr<StateDirRuntime>> state_runtimes_;
};

// The profiles directory: `configured`, else $BULWARK_PROFILES_DIR, else
// /usr/share/bulwark/profiles.
std::string profilesDir(const std::string& configured);

}  // namespace bulwark::agent
