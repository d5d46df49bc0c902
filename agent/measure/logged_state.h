// What this boot's log already records, so a cycle logs (and extends for) only
// what is new (DESIGN §4):
//   image            — set of digests: each distinct image digest once per boot,
//                      however many containers start from it;
//   runtime-process  — set of (executable, digest): shims come and go, the log
//                      grows only with executables not seen before;
//   everything else  — latest digest per (kind, subject): a file that changes is
//                      logged again, also when it changes back.
// Pure; rebuilt from the log's batch records when the agent restarts in a boot.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "agent/measure/measurement.h"
#include "attest/cel/cel_record.h"

namespace bulwark::agent {

class LoggedState {
 public:
  // Replays what `log` attests for `pcr`: its extending batch records with the parts
  // they list (attest::attestedBatches; other content is ignored).
  static LoggedState fromLog(const attest::CelLog& log, std::uint32_t pcr);

  bool isNew(const Measurement& m) const;
  void record(const std::string& kind, const std::string& subject, const Bytes& sha256);
  std::size_t size() const { return latest_.size() + sets_.size(); }

  // The measurements of `current` that a batch must list now: extendable, new,
  // distinct (kind, subject, sha256), in sortMeasurements order.
  std::vector<Measurement> pending(const std::vector<Measurement>& current) const;

 private:
  std::map<std::pair<std::string, std::string>, Bytes> latest_;
  std::set<std::tuple<std::string, std::string, Bytes>> sets_;  // subject "" for images
};

}  // namespace bulwark::agent
