// What enrollment and attestation need from the agent configuration
// (/etc/bulwark/agent.yaml, docs/agent.md "Configuration"): a narrow view of
// agent/config's AgentConfig, which parses and validates the whole file (an
// unknown key or a bad value is an error naming the key).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "attest/core/error.h"

namespace bulwark::agent {

struct AgentConfig;

struct AgentSettings {
  std::string node;                            // node: (default: the host name)
  std::string state_dir = "/var/lib/bulwark";  // state_dir:
  // tpm:
  std::string tcti;              // tpm.tcti ("" = device:/dev/tpmrm0)
  std::string ek_type = "auto";  // tpm.ek_type: auto|rsa2048|ecc-p256|ecc-p384
  std::string ak_type = "auto";  // tpm.ak_type: auto|rsa2048|ecc-p256
  // verifier:
  std::string verifier_url;               // verifier.url (https://host:port)
  std::string verifier_ca_file;           // verifier.ca_file (PEM)
  std::chrono::seconds timeout{15};       // verifier.timeout (per request)
  std::chrono::seconds interval{30};      // verifier.interval (attestation period)
  std::chrono::seconds max_backoff{300};  // verifier.max_backoff (after errors)
  std::string firmware_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
  std::string ima_log = "/sys/kernel/security/ima/ascii_runtime_measurements";
  // measure: (owned by the measurement engine; read here for the report)
  std::uint32_t measurement_pcr = 15;                            // measure.pcr
  std::string measurement_log = "/var/lib/bulwark/measure.log";  // measure.log
  // The whole configuration it came from (the measurement engine reads the rest).
  std::shared_ptr<const AgentConfig> config;
};

AgentSettings settingsFromConfig(const AgentConfig& config);

// Parses YAML text (an empty document gives the defaults). kInvalidArgument
// "<key>: <problem>" on any error.
[[nodiscard]] Result<AgentSettings> parseAgentSettings(std::string_view yaml);
// Reads `path`. A missing file gives the defaults unless `must_exist` (the path
// was given explicitly with --config).
[[nodiscard]] Result<AgentSettings> loadAgentSettings(const std::string& path, bool must_exist);

// Node names as the verifier accepts them (docs/api.md): 1..253 of
// [A-Za-z0-9._-], not starting with '.' or '-'.
[[nodiscard]] Result<void> validateNodeName(std::string_view name);
// The host name (gethostname), validated as a node name.
[[nodiscard]] Result<std::string> defaultNodeName();

}  // namespace bulwark::agent
