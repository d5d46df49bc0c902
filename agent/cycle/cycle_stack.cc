#include "agent/cycle/cycle_stack.h"

#include "agent/config/agent_config.h"
#include "agent/cycle/agent_wiring.h"
#include "agent/enroll/host_facts.h"

namespace bulwark::agent {

CycleStack::CycleStack() = default;
CycleStack::~CycleStack() = default;

Result<std::unique_ptr<CycleStack>> buildCycleStack(const AgentSettings& settings,
                                                    const StateStore& store) {
  auto stack = std::make_unique<CycleStack>();
  auto node = enrolledNode(store);
  if (!node) return std::unexpected(node.error());
  stack->node = *node;
  auto verifier = makeVerifierClient(settings, store, /*mtls=*/true);
  if (!verifier) return std::unexpected(verifier.error());
  stack->verifier = std::move(*verifier);
  auto tpm = openTpm(settings);
  if (!tpm) return std::unexpected(tpm.error());
  stack->tpm = std::move(*tpm);
  stack->quoter = std::make_unique<TpmQuoter>(*stack->tpm, store.akBlobPath());
  AgentConfig config = settings.config ? *settings.config : AgentConfig{};
  auto measure = buildMeasureStack(config, stack->tpm.get());
  if (!measure) return std::unexpected(measure.error());
  stack->measure = std::move(*measure);
  stack->notes = stack->measure->notes;
  stack->logs = std::make_unique<LogFileSource>(LogFileSourceOptions{
      .cel_log = settings.measurement_log,
      .firmware_log = settings.firmware_log,
      .ima_log = settings.ima_log,
  });
  stack->source = std::make_unique<EngineMeasurementSource>(*stack->measure->engine, *stack->logs);
  MeasurementSource* source = stack->source.get();
  if (config.inspect.enabled) {
    auto inspecting =
        InspectingSource::create(*stack->source, config.inspect, config.measure.docker_socket);
    if (!inspecting) return std::unexpected(inspecting.error());
    stack->inspecting = std::move(*inspecting);
    source = stack->inspecting.get();
  }
  stack->cycle = std::make_unique<AttestationCycle>(
      CycleOptions{.node = stack->node, .measurement_pcr = settings.measurement_pcr},
      CycleEnvironment{.store = &store,
                       .source = source,
                       .quoter = stack->quoter.get(),
                       .verifier = stack->verifier.get(),
                       .host_facts = [] { return collectHostFacts(); },
                       .now_unix_ms = nowUnixMs});
  return stack;
}

}  // namespace bulwark::agent
