#include "agent/measure/measurement.h"

#include <algorithm>
#include <tuple>

namespace bulwark::agent {

bulwark::v1::Measurement toProto(const Measurement& m) {
  bulwark::v1::Measurement p;
  p.set_kind(m.kind);
  p.set_subject(m.subject);
  p.set_sha256(std::string(m.sha256.begin(), m.sha256.end()));
  for (const auto& [k, v] : m.attributes) (*p.mutable_attributes())[k] = v;
  return p;
}

attest::BatchEntry toBatchEntry(const Measurement& m) {
  return attest::BatchEntry{m.kind, m.subject, m.sha256};
}

void sortMeasurements(std::vector<Measurement>& ms) {
  std::sort(ms.begin(), ms.end(), [](const Measurement& a, const Measurement& b) {
    return std::tie(a.kind, a.subject, a.sha256) < std::tie(b.kind, b.subject, b.sha256);
  });
}

}  // namespace bulwark::agent
