// bulwark-agent — wiring only: every subcommand lives in its own cmd_*.cc.
#include "agent/command.h"

namespace bulwark::agent {
std::vector<Registrar>& registrars() {
  static std::vector<Registrar> all;
  return all;
}
}  // namespace bulwark::agent

int main(int argc, char** argv) {
  CLI::App app{"bulwark-agent — measures this container host into the TPM, inspects container "
               "isolation and attests to a Bulwark verifier"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bulwark-agent 0.1.0");
  bulwark::agent::GlobalOptions globals;
  globals.config_option =
      app.add_option("--config", globals.config_path, "Agent configuration file")
          ->capture_default_str();
  int exit_code = bulwark::agent::kExitOk;
  for (auto& registrar : bulwark::agent::registrars()) registrar(app, globals, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : bulwark::agent::kExitUsage;
  }
  return exit_code;
}
