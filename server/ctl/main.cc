// bulwarkctl — wiring only: every command group lives in its own cmd_*.cc.
#include <cstdio>

#include "server/ctl/command.h"

namespace bulwark::ctl {
std::vector<Registrar>& registrars() {
  static std::vector<Registrar> all;
  return all;
}
}  // namespace bulwark::ctl

int main(int argc, char** argv) {
  CLI::App app{"bulwarkctl — operate and audit a Bulwark attestation fleet"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bulwarkctl 0.1.0");
  int exit_code = bulwark::ctl::kExitOk;
  for (auto& registrar : bulwark::ctl::registrars()) registrar(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : bulwark::ctl::kExitError;
  }
  return exit_code;
}
