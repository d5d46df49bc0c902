// The agent configuration file, /etc/bulwark/agent.yaml by default (documented
// example: packaging/agent.yaml; reference: docs/agent.md "Configuration").
// Validated completely at load: an unknown key, a wrong type or a bad value is a
// kInvalidArgument whose message starts with the dotted key ("measure.pcr: PCR 16
// is resettable; ..."). Pure apart from loadAgentConfig(), which reads the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

struct TpmConfig {
  std::string tcti;  // "" = no TPM configured (measure without extending)
  std::string ek_type = "auto";
  std::string ak_type = "auto";
};

struct VerifierConfig {
  std::string url;
  std::string ca_file;
  std::uint32_t timeout_s = 15;
  std::uint32_t interval_s = 30;
  std::uint32_t max_backoff_s = 300;
  std::string firmware_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
  std::string ima_log = "/sys/kernel/security/ima/ascii_runtime_measurements";
};

struct MeasureConfig {
  std::uint32_t pcr = 15;
  std::string log = "/var/lib/bulwark/measure.log";
  std::vector<std::string> include;  // absolute paths, directories or glob(3) patterns
  std::vector<std::string> runtime_binaries{
      "containerd", "containerd-shim*", "runc", "crun", "dockerd", "crio", "cri-o", "kubelet"};
  std::string docker_socket = "/run/docker.sock";  // "" disables the Docker collector
  std::string containerd_socket = "/run/containerd/containerd.sock";
  std::vector<std::string> oci_state_roots{"/run/runc", "/run/crun",
                                           "/run/docker/runtime-runc/moby", "/run/containerd/runc"};
  std::vector<std::string> containerd_task_roots{"/run/containerd/io.containerd.runtime.v2.task"};
  bool systemd = true;  // ask systemd over the system bus for runtime units
  std::uint32_t debounce_ms = 500;
  std::uint32_t hash_threads = 0;  // 0 = one per online CPU
};

// Container isolation inspection in every attestation cycle (DESIGN §5); the
// results travel in the Evidence, bound by the quote. Docker is asked over
// measure.docker_socket; OCI state roots are the runc/crun/containerd defaults
// plus state_roots ("[runtime=]dir").
struct InspectConfig {
  bool enabled = true;
  std::string profile = "baseline";  // name in <profiles_dir>/isolation/ or a .json path
  std::string profiles_dir;          // "" = $BULWARK_PROFILES_DIR, else /usr/share/bulwark/profiles
  std::vector<std::string> state_roots;
};

struct AgentConfig {
  std::string node;  // "" = the host name
  std::string state_dir = "/var/lib/bulwark";
  bool debug = false;  // allows resettable PCRs (16, 23) for measure.pcr
  TpmConfig tpm;
  VerifierConfig verifier;
  MeasureConfig measure;
  InspectConfig inspect;
};

// Parses YAML text; an empty document gives the defaults.
[[nodiscard]] Result<AgentConfig> parseAgentConfig(std::string_view yaml);
// Reads and parses `path`. A missing file gives the defaults unless `must_exist`
// (the path came from --config). Errors name the file in their context.
[[nodiscard]] Result<AgentConfig> loadAgentConfig(const std::string& path, bool must_exist);

}  // namespace bulwark::agent
