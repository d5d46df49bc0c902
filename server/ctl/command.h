// bulwarkctl command groups register themselves here, so adding a group is one
// new cmd_*.cc file and no edit to main.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bulwark::ctl {

// Exit codes shared by every command (documented in docs/bulwarkctl.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;  // the check ran and the answer is "no"
inline constexpr int kExitError = 2;     // could not check: bad input, I/O, ...

// A registrar adds its subcommands to `app` and stores its handlers via
// CLI::App::callback. Handlers report their exit code through `exit_code`.
using Registrar = std::function<void(CLI::App& app, int& exit_code)>;

std::vector<Registrar>& registrars();

struct RegisterCommand {
  explicit RegisterCommand(Registrar r) { registrars().push_back(std::move(r)); }
};

}  // namespace bulwark::ctl
