// Building what one cycle sends (pure: values in, bytes out). The Report is
// serialized exactly once; those bytes are both hashed into the quote's
// qualifying data — SHA-256(nonce || SHA-256(report)), DESIGN §3 step 3 — and
// sent verbatim as Evidence.report, so the verifier hashes what the TPM signed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/cycle/measurement_source.h"
#include "attest/tpm/tpm.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

inline constexpr std::uint32_t kReportSchemaVersion = 1;

struct ReportInputs {
  std::string node;
  Bytes nonce;
  std::int64_t created_unix_ms = 0;
  bulwark::v1::HostFacts host;
  std::uint32_t measurement_pcr = 15;
};

// Whether a measurement goes into Report.measurements. The verifier judges every
// (kind, subject, sha256) triple of the log's batch records (docs/api.md), so a
// measurement that is nothing but its triple says nothing the log does not: only
// images (attributes["refs"] name the running images for the image rules),
// runtime processes (what runs now, not what was measured once this boot) and
// measurements with attributes (pid, unit, mismatch, subject_encoding, ...) go.
bool reportsMeasurement(const bulwark::v1::Measurement& m);

// Serialized bulwark.v1.Report: the measurements of `collected` that
// reportsMeasurement() keeps, its containers, and `logs` (as shipped: whole or
// from a cursor) in that order.
[[nodiscard]] Result<std::string> buildReport(const ReportInputs& inputs,
                                              const Collected& collected,
                                              const std::vector<bulwark::v1::EventLog>& logs);

// Evidence{report, quote{attest, signature, pcrs}}: one PcrBank per quoted bank,
// values ascending by index (docs/api.md).
bulwark::v1::Evidence buildEvidence(std::string report_bytes, const attest::QuoteResult& quote);

}  // namespace bulwark::agent
