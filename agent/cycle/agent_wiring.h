// Wiring shared by the enroll/attest/run subcommands (kept out of the cmd_*.cc
// files so they stay flag parsing only): settings with command-line overrides,
// the verifier client built from them, and the real clock/RNG.
#pragma once

#include <memory>
#include <string>

#include "agent/enroll/agent_settings.h"
#include "agent/enroll/state_store.h"
#include "agent/transport/verifier_client.h"
#include "attest/tpm/esys_tpm.h"

namespace bulwark::agent {

// Flags every agent subcommand that talks to the verifier accepts; empty = keep
// the configuration's value.
struct SettingsOverrides {
  std::string verifier_url;
  std::string ca_file;
  std::string tcti;
  std::string node;
  std::string state_dir;
};

// Loads `config_path` (must exist when given explicitly), applies overrides,
// defaults the node name to the host name and validates what enrollment and
// attestation need (verifier URL and CA file present).
[[nodiscard]] Result<AgentSettings> resolveSettings(const std::string& config_path,
                                                    bool config_explicit,
                                                    const SettingsOverrides& overrides);

// A VerifierClient over HTTPS. With `mtls`, nonce/attest present the enrollment
// client certificate from the state directory (kNotFound when not enrolled).
[[nodiscard]] Result<std::unique_ptr<VerifierClient>> makeVerifierClient(
    const AgentSettings& settings, const StateStore& store, bool mtls);

// The TPM named by tpm.tcti (the kernel resource manager by default).
[[nodiscard]] Result<std::unique_ptr<attest::EsysTpm>> openTpm(const AgentSettings& settings);

std::int64_t nowUnixMs();
// Unix ms → "2024-05-01T12:00:00.000Z" ("-" for 0).
std::string formatUnixMs(std::int64_t unix_ms);

// The node name this agent enrolled as (its client certificate's CN); kNotFound
// when enrollment has not finished.
[[nodiscard]] Result<std::string> enrolledNode(const StateStore& store);

// After the verifier accepted evidence: an enrollment that was awaiting
// approval has evidently been approved.
[[nodiscard]] Result<void> markApproved(const StateStore& store);

}  // namespace bulwark::agent
