// Incremental logs on the verifier side (docs/api.md "Incremental logs"). The verifier
// keeps a verified copy (LogCopy, stored) of each node's own measurement log; agents
// then ship only the bytes after it. An appraisal either
//  - expands the evidence (expandEvidence: copy + shipped bytes, reparsed and replayed
//    whole — the ordinary pipeline), or
//  - when nothing was appended and the node's policy inputs are unchanged, resumes
//    from the copy's PCR chain and replays the memo of the policy stages
//    (LogPolicyMemo), so a steady-state appraisal costs a quote check, not a log.
// Both give the same verdict (tests/unit/appraisal/log_copies_test.cc checks it).
// Pure; the Appraiser does the I/O and the caching.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "attest/core/digest.h"
#include "server/appraisal/evidence.h"
#include "server/appraisal/verdict.h"
#include "server/store/store.h"

namespace bulwark::server {

// A LogCopy without its bytes: what resuming from it needs.
struct CopyState {
  std::string source;
  std::uint64_t offset = 0;   // bytes verified (a record boundary)
  std::uint64_t entries = 0;  // records verified
  Bytes sha256;               // of those bytes
  HashAlg bank = HashAlg::kSha256;
  std::map<std::uint32_t, Bytes> chain;  // PCRs the log extended → value after it
};

// kInternal when a stored row does not decode (bank or chain).
[[nodiscard]] Result<CopyState> copyStateOf(const LogCopy& copy);
std::string formatChain(const std::map<std::uint32_t, Bytes>& chain);

// Whether the verifier keeps a copy of this shipped log: an incremental one, or a
// whole CEL log whose first record is Bulwark's log-start (the agent's own log; other
// CEL logs, firmware and IMA logs keep travelling whole).
bool keepsCopy(const ParsedLog& log);

// Makes the incremental log of `ev` whole: the node's copy (with content, or null when it
// has none) followed by the shipped bytes, reparsed; ev.logged is rebuilt. kNotFound
// naming the log when the copy is not of its source or does not end exactly at its offset
// (→ 409 log-prefix-unknown); kMalformed when the joined bytes do not parse (the shipped
// bytes do not continue the copy). With `stored_evidence` (re-appraisal of the node's
// latest stored evidence, which advanced the copy past its own offset) the copy may be
// longer: its first `offset` bytes are used.
[[nodiscard]] Result<void> expandEvidence(ParsedEvidence& ev, const LogCopy* copy,
                                          bool stored_evidence = false);

// Bytes of a whole (shipped whole or expanded) CEL log up to its last complete record:
// what a new copy holds.
std::string_view completeBytes(const ParsedEvidence& ev, const ParsedLog& log);

// Whether an incremental log appended nothing (a torn tail is not a record).
inline bool appendsNothing(const ParsedLog& log) {
  return log.incremental() && log.cel && log.cel->records.empty();
}

// What the policy stages (checkMeasurements and the image-history part of checkImages)
// concluded over a node's logged measurements; replayed instead of re-evaluating them
// while its key holds.
struct LogPolicyMemo {
  Bytes key;                     // memoKey() it was computed for
  std::vector<Reason> measurement_reasons;  // kMeasurements failures and events, in order
  bool measurements_passed = false;
  // Images of the log's history that a deny rule refuses: ("sha256:<hex>", who).
  std::vector<std::pair<std::string, std::string>> denied_history;
};

// Everything the memoized stages read besides the logged entries themselves: the node,
// the copy the entries come from (source, offset, records, digest), the policy version,
// the node's acknowledgments and the report's own measurements.
Bytes memoKey(const std::string& node, const CopyState& copy,
              std::int64_t policy_version, std::span<const MeasurementAcknowledgment> acks,
              std::span<const MeasurementEntry> reported);

}  // namespace bulwark::server
