#include "agent/measure/logged_state.h"

#include "attest/cel/bulwark_content.h"

namespace bulwark::agent {

namespace {

bool isSetKind(const std::string& kind) {
  return kind == kKindImage || kind == kKindRuntimeProcess;
}

// Images are keyed by digest alone: another tag of a logged image is not new.
std::string setSubject(const std::string& kind, const std::string& subject) {
  return kind == kKindImage ? std::string() : subject;
}

}  // namespace

LoggedState LoggedState::fromLog(const attest::CelLog& log, std::uint32_t pcr) {
  // What the log attests (attest/cel decides: extended batches and the parts they
  // list; orphaned parts of a crashed cycle are not logged and get logged again).
  LoggedState s;
  for (const auto& b : attest::attestedBatches(log)) {
    if (b.pcr != pcr) continue;
    for (const auto& e : b.entries) s.record(e.kind, e.subject, e.sha256);
  }
  return s;
}

bool LoggedState::isNew(const Measurement& m) const {
  if (isSetKind(m.kind)) return !sets_.count({m.kind, setSubject(m.kind, m.subject), m.sha256});
  auto it = latest_.find({m.kind, m.subject});
  return it == latest_.end() || it->second != m.sha256;
}

void LoggedState::record(const std::string& kind, const std::string& subject, const Bytes& sha256) {
  if (isSetKind(kind)) {
    sets_.insert({kind, setSubject(kind, subject), sha256});
  } else {
    latest_[{kind, subject}] = sha256;
  }
}

std::vector<Measurement> LoggedState::pending(const std::vector<Measurement>& current) const {
  // New against the log, and distinct within this batch (without copying the state:
  // an idle cycle over a large tree must stay cheap).
  LoggedState batch;
  std::vector<Measurement> out;
  for (const auto& m : current) {
    if (!m.extend || !isNew(m) || !batch.isNew(m)) continue;
    batch.record(m.kind, m.subject, m.sha256);
    out.push_back(m);
  }
  sortMeasurements(out);
  return out;
}

}  // namespace bulwark::agent
