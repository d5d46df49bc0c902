// Everything one attestation cycle uses, built from the settings — shared by
// `attest --once` and `run` so the two cannot drift apart. Privileged parts
// (TPM, measurement engine, quoter) and the network part (verifier client) are
// separate members behind their interfaces: the later process split (DESIGN §5,
// docs/agent.md) puts a socketpair between them without changing the cycle.
#pragma once

#include <memory>
#include <string>

#include "agent/cycle/attestation_cycle.h"
#include "agent/cycle/engine_source.h"
#include "agent/cycle/inspection_source.h"
#include "agent/cycle/log_file_source.h"
#include "agent/cycle/tpm_quoter.h"
#include "agent/enroll/agent_settings.h"
#include "agent/enroll/state_store.h"
#include "agent/measure/measure_setup.h"
#include "attest/tpm/esys_tpm.h"

namespace bulwark::agent {

struct CycleStack {
  CycleStack();
  ~CycleStack();
  std::string node;  // the enrolled name (client certificate CN)
  // Declaration order = construction order; destroyed in reverse, TPM last.
  std::unique_ptr<attest::EsysTpm> tpm;
  std::unique_ptr<VerifierClient> verifier;
  std::unique_ptr<TpmQuoter> quoter;
  std::unique_ptr<MeasureStack> measure;
  std::unique_ptr<LogFileSource> logs;
  std::unique_ptr<EngineMeasurementSource> source;
  std::unique_ptr<InspectingSource> inspecting;  // wraps `source` unless inspect.enabled is false
  std::unique_ptr<AttestationCycle> cycle;
  std::vector<std::string> notes;  // setup problems that do not stop attesting
};

// Errors: not enrolled (kNotFound), TPM unreachable, bad TLS files, measurement
// log that cannot be opened.
[[nodiscard]] Result<std::unique_ptr<CycleStack>> buildCycleStack(const AgentSettings& settings,
                                                                  const StateStore& store);

}  // namespace bulwark::agent
