// Structural decoding of POST /v1/attest bodies (bulwark.v1.Evidence) before any
// state changes: the protobuf messages, the TPMS_ATTEST / TPMT_SIGNATURE encodings,
// the PCR values, every shipped log and every measurement must parse and respect the
// limits. Anything else is kMalformed with a message naming the field, so malformed
// input of any size is refused without consuming a nonce or storing anything
// (DESIGN §9). Pure; nothing here is trusted yet — the quote check decides that.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/cel/cel_record.h"
#include "attest/core/bytes.h"
#include "attest/eventlog/event_log.h"
#include "attest/quote/pcr_selection.h"
#include "attest/quote/verdict.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::server {

struct EvidenceLimits {
  std::size_t max_log_offset = 64u << 20;  // Store's kMaxLogCopy
  std::size_t max_evidence_bytes = 16u << 20;  // Store's kMaxEvidence
  std::size_t max_logs = 8;
  std::size_t max_measurements = 100000;
  std::size_t max_containers = 10000;
  std::size_t max_findings = 100000;  // over all containers
  std::size_t max_text = 4096;        // node, subject, image, control, ...
};

// Measurement kinds of docs/api.md; "image" goes to the image rules, the rest to
// reference values.
inline constexpr std::string_view kImageKind = "image";
// Reported, never extended (a per-container OCI config, agent/measure): informational,
// neither required in the log nor matched against reference values.
inline constexpr std::string_view kReportOnlyKind = "oci-bundle";
bool isKnownMeasurementKind(std::string_view kind);
// Kinds judged by reference values: everything but images and report-only kinds.
inline bool isReferenceKind(std::string_view kind) {
  return kind != kImageKind && kind != kReportOnlyKind;
}
// Node names (docs/api.md): 1..253 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool isNodeName(std::string_view name);

struct MeasurementEntry {
  std::string kind;
  std::string subject;
  Bytes sha256;
  auto operator<=>(const MeasurementEntry&) const = default;
};

struct ParsedLog {
  bulwark::v1::EventLog::Format format = bulwark::v1::EventLog::FORMAT_UNSPECIFIED;
  std::string source;
  std::size_t index = 0;                          // position in Report.logs
  // Incremental CEL logs (docs/api.md "Incremental logs"): `cel` holds only the records
  // after the first `offset` bytes / `entries_before` records, which the verifier holds
  // (LogCopy). Record indexes and offsets in `cel` are those of the whole log.
  std::uint64_t offset = 0;
  std::uint64_t entries_before = 0;
  // Set by expandEvidence() (log_copies.h): the verifier's copy followed by the shipped
  // bytes, which `cel` then holds whole (offset 0).
  std::string expanded;
  std::optional<attest::CelLog> cel;              // CEL_JSON
  std::optional<attest::eventlog::EventLog> tcg;  // TCG_PC_CLIENT
  std::string raw;                                // TCG_PC_CLIENT bytes (boot policy)
  std::string ima;                                // IMA_ASCII (text, replayed later)
  std::string label() const;                      // "cel log #1 (/run/bulwark/measure.log)"
  bool incremental() const { return offset != 0; }
};

// What the quote claims, read from the (not yet verified) TPMS_ATTEST.
struct QuotedInfo {
  bool is_quote = false;           // type == TPM_ST_ATTEST_QUOTE
  attest::PcrSelection selection;  // empty unless is_quote
  attest::QuoteClock clock;
};

struct ParsedEvidence {
  Bytes digest;              // SHA-256 of the whole Evidence bytes
  std::string report_bytes;  // Evidence.report exactly as received (what extraData binds)
  bulwark::v1::Report report;
  Bytes attest;     // TPMS_ATTEST
  Bytes signature;  // TPMT_SIGNATURE
  QuotedInfo quoted;
  attest::PcrValues pcrs;  // supplied PCR values, per bank as sent
  std::vector<ParsedLog> logs;
  std::vector<MeasurementEntry> measurements;  // Report.measurements
  // Bulwark "batch" entries of every CEL log, in log order (duplicates kept); of an
  // incremental log only those shipped (expandEvidence() adds the verifier's copy).
  std::vector<MeasurementEntry> logged;
  bool incremental() const;  // any log shipped from an offset
};

// ev.logged from the Bulwark batch entries of ev's CEL logs, in log order (attest/cel
// decides which records count).
void collectLogged(ParsedEvidence& ev);

// kMalformed with "<field>: <problem>" for anything that does not decode; kUnsupported
// for a bank or algorithm Bulwark does not implement.
[[nodiscard]] Result<ParsedEvidence> parseEvidence(ByteView bytes,
                                                   const EvidenceLimits& limits = {});

}  // namespace bulwark::server
