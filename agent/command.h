// bulwark-agent subcommands register themselves here, so adding one is a new
// agent/cmd_<name>.cc file and no edit to main.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bulwark::agent {

// Exit codes shared by every subcommand (docs/agent.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;       // could not do the job (config, I/O, TPM, ...)
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitViolations = 3;  // inspect: the check ran and found violations

// Global options every subcommand can read after parsing.
struct GlobalOptions {
  std::string config_path = "/etc/bulwark/agent.yaml";
  // Set before parsing; `config_option->count() > 0` inside a handler means --config
  // was passed explicitly (a missing file is then an error, not "use defaults").
  CLI::Option* config_option = nullptr;
};

using Registrar = std::function<void(CLI::App& app, const GlobalOptions& globals, int& exit_code)>;

std::vector<Registrar>& registrars();

struct RegisterCommand {
  explicit RegisterCommand(Registrar r) { registrars().push_back(std::move(r)); }
};

}  // namespace bulwark::agent
