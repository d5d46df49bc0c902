// MeasurementSource that measures nothing and ships the event logs present on
// the node (docs/api.md "Logs"): the firmware TCG log when a PCR 0-9 is
// selected, the IMA list when PCR 10 is, and Bulwark's CEL log (whole, offset 0)
// whenever it exists, each with the file it was read from (Collected.log_files);
// the cycle ships a log from the verifier's cursor (log_cursors.h). An empty path
// disables a log.
#pragma once

#include "agent/cycle/measurement_source.h"

namespace bulwark::agent {

struct LogFileSourceOptions {
  std::string cel_log;       // Bulwark's CEL-JSON measurement log
  std::string firmware_log;  // /sys/kernel/security/tpm0/binary_bios_measurements
  std::string ima_log;       // /sys/kernel/security/ima/ascii_runtime_measurements
  std::size_t max_log_bytes = 64u << 20;
};

class LogFileSource final : public MeasurementSource {
 public:
  explicit LogFileSource(LogFileSourceOptions options) : options_(std::move(options)) {}
  Result<Collected> collect(std::uint32_t selected_pcrs) override;

 private:
  LogFileSourceOptions options_;
};

}  // namespace bulwark::agent
