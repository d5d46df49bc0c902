// The pure part of the appraisal pipeline (DESIGN §3 step 4): from the checks that
// need the Store (node, nonce — recorded by the Appraiser) on, every check runs here
// over values: quote → TPM clock → log replay → measurements → images → isolation.
// No I/O, no clock; table-tested in tests/unit/appraisal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "attest/eventlog/boot_policy.h"
#include "attest/ima/ima_policy.h"
#include "attest/quote/ak_key.h"
#include "server/appraisal/evidence.h"
#include "server/appraisal/log_copies.h"
#include "server/appraisal/policy.h"
#include "server/appraisal/verdict.h"
#include "server/store/store.h"

namespace bulwark::server {

// Last TPMS_CLOCK_INFO the verifier accepted for this node.
struct TpmCounters {
  std::int64_t reset_count = 0;
  std::int64_t restart_count = 0;
  std::int64_t clock = 0;
};

struct PipelineInput {
  const ParsedEvidence* evidence = nullptr;
  const attest::AkKey* ak = nullptr;               // the node's enrolled AK
  const attest::PcrSelection* expected = nullptr;  // bank + PCRs the verifier asked for
  std::uint32_t measurement_pcr = 15;
  std::optional<TpmCounters> previous;  // none before the first accepted quote
  const PolicySnapshot* policy = nullptr;
  const IsolationProfile* profile = nullptr;
  const attest::ima::ImaPolicy* ima_policy = nullptr;  // nullptr: IMA replay only
  // Over the firmware log's facts (docs/boot-policy.md); nullptr: replay only.
  const attest::eventlog::CompiledBootPolicy* boot_policy = nullptr;
  // Superseded measurements an operator accepted for this node (re-approval,
  // docs/verifier.md "Superseded entries"); only entries naming the report's node count.
  const std::vector<MeasurementAcknowledgment>* acknowledged = nullptr;
  // The incremental log resumes from the verifier's copy (log_copies.h); with `memo`, the
  // policy stages over the logged measurements are replayed instead of evaluated. Fail
  // closed: an incremental log that does not continue `resume` fails the log check,
  // incremental evidence without a memo the measurement check (the Appraiser expands
  // such evidence instead).
  const CopyState* resume = nullptr;
  const LogPolicyMemo* memo = nullptr;
};

// PCR values after one CEL log, for the PCRs it extended.
using LogChains = std::map<std::size_t, std::map<std::uint32_t, Bytes>>;  // by ParsedLog::index

struct PipelineResult {
  Verdict verdict;
  // Counters of the quote when both the quote and the clock checks passed (the new
  // baseline); empty otherwise, so a rejected quote never moves the baseline.
  std::optional<TpmCounters> counters;
  // Set when every log replayed: the chain after each CEL log (a new copy's state).
  LogChains log_chains;
  bool logs_passed = false;  // the log check passed (every shipped log replayed)
  // What the policy stages concluded over the logged measurements, when they were
  // evaluated (not replayed from a memo); key left empty for the caller.
  std::optional<LogPolicyMemo> memo;
};

// `ledger` carries the Appraiser's node and nonce checks. Pure.
PipelineResult runPipeline(CheckLedger ledger, const PipelineInput& in);

// Stages (pipeline_quote.cc, pipeline_logs.cc, pipeline_policy.cc). Each records its
// check in the ledger; exposed for tests.
// Returns the verified quote's counters when the quote passed.
std::optional<attest::QuoteClock> checkQuote(CheckLedger& ledger, const PipelineInput& in);
void checkTpmClock(CheckLedger& ledger, const attest::QuoteClock& now,
                   const std::optional<TpmCounters>& previous);
LogChains checkLogs(CheckLedger& ledger, const PipelineInput& in);
// With `memo_out`, what the stage concluded over the logged entries is also saved there.
void checkMeasurements(CheckLedger& ledger, const PipelineInput& in,
                       LogPolicyMemo* memo_out = nullptr);
void checkImages(CheckLedger& ledger, const PipelineInput& in, LogPolicyMemo* memo_out = nullptr);
void checkIsolation(CheckLedger& ledger, const PipelineInput& in);

// Logged entries of reference kinds that a LATER logged entry of the same (kind, subject)
// replaced with another digest (the current digest is the last one logged), each mapped
// to that current digest. Pure.
std::map<MeasurementEntry, Bytes> supersededEntries(const ParsedEvidence& ev);

// PCR indices of the first bank of a selection, ascending (what agents are told to quote).
std::vector<std::uint32_t> selectedPcrs(const attest::PcrSelection& selection);

// Cap on reasons of one code, so a node with 10,000 unknown files yields a bounded
// verdict (the rest are summarised in one "... and N more" reason).
inline constexpr std::size_t kMaxReasonsPerCode = 50;

}  // namespace bulwark::server
