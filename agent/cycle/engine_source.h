// MeasurementSource over the measurement engine (agent/measure/, DESIGN §4):
// each collect() runs one engine cycle — which extends the PCR once when
// something new was measured and appends the batch record to the CEL log —
// and then ships the logs (LogFileSource), so the CEL log read for the report
// already holds that record and the quote taken afterwards covers the extend.
#pragma once

#include "agent/cycle/log_file_source.h"
#include "agent/cycle/measurement_source.h"
#include "agent/measure/measurement_engine.h"

namespace bulwark::agent {

class EngineMeasurementSource final : public MeasurementSource {
 public:
  // Both must outlive this object; runs on the engine's cycle thread.
  EngineMeasurementSource(MeasurementEngine& engine, LogFileSource& logs)
      : engine_(engine), logs_(logs) {}

  Result<Collected> collect(std::uint32_t selected_pcrs) override;
  // Whether the last collect() extended the PCR.
  bool lastExtended() const { return last_extended_; }

 private:
  MeasurementEngine& engine_;
  LogFileSource& logs_;
  bool last_extended_ = false;
};

}  // namespace bulwark::agent
