#include "agent/measure/measure_setup.h"

#include "agent/measure/docker_image_source.h"
#include "agent/measure/oci_state_image_source.h"
#include "agent/measure/sd_bus_systemd_manager.h"
#include "agent/measure/tpm_pcr_extender.h"

namespace bulwark::agent {

MeasureStack::MeasureStack() = default;
MeasureStack::~MeasureStack() {
  engine.reset();  // the engine's watcher thread first
}

std::uint64_t MeasureStack::extendCount() const { return extender ? extender->extendCount() : 0; }

MeasureOptions measureOptionsFrom(const AgentConfig& config) {
  const MeasureConfig& m = config.measure;
  MeasureOptions o;
  o.pcr = m.pcr;
  o.debug = config.debug;
  o.log_path = m.log;
  o.include = m.include;
  o.runtime_binaries = m.runtime_binaries;
  o.oci_state_roots = m.oci_state_roots;
  o.containerd_task_roots = m.containerd_task_roots;
  o.debounce_ms = m.debounce_ms;
  o.hash_threads = m.hash_threads;
  return o;
}

Result<std::unique_ptr<MeasureStack>> buildMeasureStack(const AgentConfig& config, attest::Tpm* tpm,
                                                        std::optional<MeasureOptions> given) {
  auto stack = std::make_unique<MeasureStack>();
  MeasureOptions options = given ? std::move(*given) : measureOptionsFrom(config);
  MeasureDeps deps;
  if (tpm) {
    auto banks = allocatedBanks(*tpm, options.pcr);
    if (!banks) return std::unexpected(banks.error());
    stack->extender = std::make_unique<TpmPcrExtender>(*tpm);
    deps.extender = stack->extender.get();
    deps.banks = std::move(*banks);
  }
  if (config.measure.systemd) {
    auto systemd = SdBusSystemdManager::connectSystem();
    if (systemd) {
      stack->systemd = std::move(*systemd);
      deps.systemd = stack->systemd.get();
    } else {
      stack->notes.push_back("systemd: " + systemd.error().toString() +
                             "; runtimes are found by the /proc scan only");
    }
  }
  if (!config.measure.docker_socket.empty()) {
    stack->docker = std::make_unique<DockerImageSource>(config.measure.docker_socket);
    deps.image_sources.push_back(stack->docker.get());
  }
  stack->oci = std::make_unique<OciStateImageSource>(
      OciStateOptions{options.oci_state_roots, options.containerd_task_roots, options.proc_root});
  deps.image_sources.push_back(stack->oci.get());
  auto engine = MeasurementEngine::create(std::move(options), std::move(deps));
  if (!engine) return std::unexpected(engine.error());
  stack->engine = std::move(*engine);
  return stack;
}

}  // namespace bulwark::agent
