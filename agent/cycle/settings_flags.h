// The command-line flags that override agent.yaml for the subcommands that talk
// to the verifier (enroll, attest, run), declared once so they read the same
// everywhere. Header-only: used by the cmd_*.cc wiring files (CLI11).
#pragma once

#include <CLI/CLI.hpp>

#include "agent/cycle/agent_wiring.h"

namespace bulwark::agent {

inline void addSettingsFlags(CLI::App* cmd, SettingsOverrides& o, bool with_node = true) {
  cmd->add_option("--verifier", o.verifier_url, "Verifier URL (https://host:port)");
  cmd->add_option("--ca-file", o.ca_file, "CA file (PEM) for the verifier's certificate");
  cmd->add_option("--tpm", o.tcti, "TPM TCTI (device:/dev/tpmrm0, swtpm:host=H,port=N, mssim:...)");
  if (with_node) cmd->add_option("--node", o.node, "Node name (default: host name)");
  cmd->add_option("--state-dir", o.state_dir, "State directory (/var/lib/bulwark)");
}

}  // namespace bulwark::agent
