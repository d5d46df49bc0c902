// Where a cycle's claims come from. The measurement engine (agent/measure/,
// DESIGN §4) implements this with its collectors and CEL log; until it is wired
// in, LogFileSource ships the event logs that exist on the node and measures
// nothing itself. Runs on the privileged side (docs/agent.md): it reads /proc,
// /sys and the TPM-backed logs, never the network.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attest/core/error.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

// The file a log was read from, (st_dev, st_ino): a log rotated at a new boot
// (renamed away, a fresh file created) is another file (log_cursors.h).
struct LogFileIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool operator==(const LogFileIdentity&) const = default;
};

struct Collected {
  std::vector<bulwark::v1::Measurement> measurements;
  std::vector<bulwark::v1::EventLog> logs;  // whole, in replay order (docs/api.md)
  // EventLog.source → the file its content was read from, when known for sure
  // (the same file before and after the read). Absent: no identity to cache by.
  std::map<std::string, LogFileIdentity> log_files;
  std::vector<bulwark::v1::ContainerReport> containers;
  std::vector<std::string> notes;  // non-fatal problems, for the operator
};

class MeasurementSource {
 public:
  virtual ~MeasurementSource() = default;
  // Collects for one report. `selected_pcrs` is the verifier's selection as a
  // bit mask (bit i = PCR i), so logs of unselected PCRs need not be read. An
  // Error means no report can be made this cycle; a missing optional log is a
  // note, not an error.
  [[nodiscard]] virtual Result<Collected> collect(std::uint32_t selected_pcrs) = 0;
};

}  // namespace bulwark::agent
