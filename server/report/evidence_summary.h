// What a report says about the evidence behind a verdict (docs/reports.md "Evidence
// summary"): host and boot facts, how much was measured, which PCR bank and PCRs were
// quoted, which logs were shipped, how many containers were inspected. Pure: stored
// evidence bytes (bulwark.v1.Evidence, evidence.proto) in, JSON out. The bytes were
// checked when they were appraised; they are decoded again defensively, so unreadable
// bytes yield {"error": ...}, never a crash.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "server/store/store_types.h"

namespace bulwark::server::report {

// null when `evidence` is empty; TPM clock facts come from the appraisal (`latest`).
// Measurements are counted over the report's own list and every CEL log's batch
// entries (distinct kind and subject); a log shipped incrementally is counted with the
// verifier's copy it continues (`copy`, the node's one; docs/api.md "Incremental logs").
nlohmann::json evidenceSummary(const std::optional<StoredEvidence>& evidence,
                               const std::optional<AppraisalRecord>& latest,
                               const LogCopy* copy = nullptr);

}  // namespace bulwark::server::report
