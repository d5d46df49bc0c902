#include "agent/cycle/inspection_source.h"

#include <cstdlib>

#include "agent/inspect/report.h"

namespace bulwark::agent {

std::string profilesDir(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* env = std::getenv("BULWARK_PROFILES_DIR");
  return env != nullptr && *env != '\0' ? env : "/usr/share/bulwark/profiles";
}

Result<std::unique_ptr<InspectingSource>> InspectingSource::create(
    MeasurementSource& inner, const InspectConfig& config, const std::string& docker_socket) {
  const std::string dir = profilesDir(config.profiles_dir);
  auto loaded = loadInspectorConfig(dir, config.profile);
  if (!loaded) {
    return std::unexpected(loaded.error().within(
        "inspect: loading profile '" + config.profile + "' from " + dir +
        " (set inspect.profiles_dir, or inspect.enabled: false to attest without inspection)"));
  }
  return std::unique_ptr<InspectingSource>(
      new InspectingSource(inner, std::move(*loaded), config, docker_socket));
}

InspectingSource::InspectingSource(MeasurementSource& inner, InspectorConfig config,
                                   const InspectConfig& inspect, const std::string& docker_socket)
    : inner_(inner),
      inspector_(std::move(config), dumper_),
      state_runtimes_(defaultStateRuntimes(inspect.state_roots, /*include_defaults=*/true)) {
  if (!docker_socket.empty()) docker_ = std::make_unique<DockerEngineRuntime>(docker_socket);
}

Result<Collected> InspectingSource::collect(std::uint32_t selected_pcrs) {
  auto collected = inner_.collect(selected_pcrs);
  if (!collected) return collected;
  std::vector<ContainerRuntime*> runtimes;
  if (docker_) runtimes.push_back(docker_.get());
  for (auto& rt : state_runtimes_) runtimes.push_back(rt.get());
  // A runtime that cannot be asked is a problem the report carries as a note;
  // containers it would have listed are missing, which the verifier cannot
  // see, so the note says so plainly.
  const InspectionRun run = inspector_.run(runtimes, {});
  for (const std::string& p : run.problems) {
    collected->notes.push_back("inspect: " + p + " (its containers are not in this report)");
  }
  auto reports = toContainerReports(run);
  collected->containers.insert(collected->containers.end(),
                               std::make_move_iterator(reports.begin()),
                               std::make_move_iterator(reports.end()));
  return collected;
}

}  // namespace bulwark::agent
