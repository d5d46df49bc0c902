// bulwark-agent inspect — container isolation inspection (docs/inspect.md).
// Wiring only: agent/inspect/ does discovery, checks and rendering.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "agent/command.h"
#include "agent/inspect/docker_engine.h"
#include "agent/inspect/inspector.h"
#include "agent/inspect/report.h"
#include "agent/inspect/runtime_state.h"

namespace bulwark::agent {
namespace {

struct InspectFlags {
  bool json = false;
  std::string profile = "baseline";
  std::string profiles_dir;
  std::vector<std::string> state_roots;
  bool no_default_roots = false;
  std::string docker_socket = "/var/run/docker.sock";
  bool no_docker = false;
  std::vector<std::string> containers;
};

std::string defaultProfilesDir() {
  const char* env = std::getenv("BULWARK_PROFILES_DIR");
  return env != nullptr && *env != '\0' ? env : "/usr/share/bulwark/profiles";
}

int runInspect(const InspectFlags& flags) {
  const std::string dir = flags.profiles_dir.empty() ? defaultProfilesDir() : flags.profiles_dir;
  auto config = loadInspectorConfig(dir, flags.profile);
  if (!config) {
    std::fprintf(stderr, "error: %s\n", config.error().toString().c_str());
    return kExitError;
  }
  PtraceSeccompDumper dumper;
  Inspector inspector(std::move(*config), dumper);
  auto state_runtimes = defaultStateRuntimes(flags.state_roots, !flags.no_default_roots);
  std::vector<ContainerRuntime*> runtimes;
  DockerEngineRuntime docker(flags.docker_socket);
  if (!flags.no_docker) runtimes.push_back(&docker);
  for (auto& rt : state_runtimes) runtimes.push_back(rt.get());
  const InspectionRun run = inspector.run(runtimes, flags.containers);
  const IsolationProfile& profile = inspector.config().profile;
  if (flags.json) {
    std::fputs((runToJson(run, profile).dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(runToTable(run, profile).c_str(), stdout);
  }
  std::fflush(stdout);
  switch (runOutcome(run)) {
    case RunOutcome::kClean:
      return kExitOk;
    case RunOutcome::kViolations:
      return kExitViolations;
    case RunOutcome::kIncomplete:
      return kExitError;
  }
  return kExitError;
}

void registerInspect(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Inspect running containers' kernel isolation (namespaces, the kernel-loaded seccomp "
      "filter, capabilities, mounts, cgroup limits) against an isolation profile. Exit 0: no "
      "violations, 3: violations, 1: could not inspect, 2: bad command line.");
  cmd->add_flag("--json", flags->json, "Machine-readable output");
  cmd->add_option("--profile", flags->profile,
                  "Isolation profile: a name in <profiles-dir>/isolation/ or a .json path")
      ->capture_default_str();
  cmd->add_option("--profiles-dir", flags->profiles_dir,
                  "Directory with controls.json, seccomp/ and isolation/ (default "
                  "$BULWARK_PROFILES_DIR or /usr/share/bulwark/profiles)");
  cmd->add_option("--state-root", flags->state_roots,
                  "Extra runc/crun state root, [RUNTIME=]DIR (repeatable)");
  cmd->add_flag(
      "--no-default-roots", flags->no_default_roots,
      "Do not read /run/runc, /run/crun, /run/containerd/runc/*, /run/docker/runtime-runc/*");
  cmd->add_option("--docker-socket", flags->docker_socket, "Docker Engine API socket")
      ->capture_default_str();
  cmd->add_flag("--no-docker", flags->no_docker, "Do not ask the Docker Engine API");
  cmd->add_option("containers", flags->containers,
                  "Container ids, id prefixes or names (default: all)");
  cmd->callback([flags, &exit_code] { exit_code = runInspect(*flags); });
}

const RegisterCommand kRegisterInspect(registerInspect);

}  // namespace
}  // namespace bulwark::agent
