// Wiring of the measurement engine from the agent configuration, shared by
// `bulwark-agent measure` and `bulwark-agent run`: options from agent.yaml, the
// PCR extender over the caller's Tpm (or none: measure without extending), the
// systemd manager on the system bus (or none when unreachable: the /proc scan
// remains), the Docker and OCI-state image sources.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/measure/measurement_engine.h"
#include "attest/tpm/tpm.h"

namespace bulwark::agent {

class TpmPcrExtender;
class SdBusSystemdManager;
class DockerImageSource;
class OciStateImageSource;

MeasureOptions measureOptionsFrom(const AgentConfig& config);

// Owns the engine and everything it talks to; destroy it before the Tpm.
struct MeasureStack {
  MeasureStack();
  ~MeasureStack();
  std::unique_ptr<TpmPcrExtender> extender;
  std::unique_ptr<SdBusSystemdManager> systemd;
  std::unique_ptr<DockerImageSource> docker;
  std::unique_ptr<OciStateImageSource> oci;
  std::unique_ptr<MeasurementEngine> engine;
  std::vector<std::string> notes;  // setup problems that do not stop measuring
  // TPM2_PCR_Extend commands sent (0 without a TPM).
  std::uint64_t extendCount() const;
};

// `tpm` may be null (no TPM: nothing is extended, no log is written); it must
// outlive the stack. Errors: the PCR banks cannot be read, the log cannot be
// opened or repaired.
// `options` defaults to measureOptionsFrom(config) (tests override roots and the
// boot id path).
[[nodiscard]] Result<std::unique_ptr<MeasureStack>> buildMeasureStack(
    const AgentConfig& config, attest::Tpm* tpm, std::optional<MeasureOptions> options = {});

}  // namespace bulwark::agent
