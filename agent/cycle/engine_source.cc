#include "agent/cycle/engine_source.h"

namespace bulwark::agent {

Result<Collected> EngineMeasurementSource::collect(std::uint32_t selected_pcrs) {
  auto cycle = engine_.runCycle();
  if (!cycle) return std::unexpected(cycle.error().within("measurement cycle"));
  last_extended_ = cycle->extended;
  auto collected = logs_.collect(selected_pcrs);
  if (!collected) return collected;
  for (const Measurement& m : cycle->measurements) {
    // Report-only values (an OCI bundle without an image digest) are never in a
    // batch record; the verifier requires every reported one to be (docs/api.md).
    if (m.extend) collected->measurements.push_back(toProto(m));
  }
  collected->notes.insert(collected->notes.begin(), cycle->notes.begin(), cycle->notes.end());
  return collected;
}

}  // namespace bulwark::agent
