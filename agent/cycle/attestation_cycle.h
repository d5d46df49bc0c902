// One attestation cycle (DESIGN §3 "Attestation cycle", docs/agent.md):
//   nonce (held from the last answer, or GET /v1/nonce) → collect → Report →
//   qualifyingData = SHA-256(nonce || SHA-256(report)) → TPM2_Quote over the
//   verifier's bank/selection → POST /v1/attest → keep the next nonce.
// Steady state is one round trip. A nonce the verifier refuses (nonce-unknown,
// -expired, -replayed, -foreign) is replaced once with a fresh one. A nonce is
// forgotten on disk *before* the evidence goes out, so a crash or lost answer
// never makes the agent send the same nonce twice.
//
// Incremental logs (docs/api.md "Incremental logs"): the cursors of the last
// answer, held in memory (log_cursors.h), let the report carry only what was
// appended to a log since. A verifier that does not hold that prefix answers 409
// log-prefix-unknown without consuming the nonce: the cursors are dropped and the
// report is rebuilt with whole logs, quoted again with the same nonce and sent
// once more. Cursors are dropped on a new boot id and after a failed cycle.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/cycle/log_cursors.h"
#include "agent/cycle/measurement_source.h"
#include "agent/cycle/quoter.h"
#include "agent/enroll/state_store.h"
#include "agent/transport/verifier_client.h"

namespace bulwark::agent {

struct CycleOptions {
  std::string node;
  std::uint32_t measurement_pcr = 15;
  // A held nonce this close to its expiry is not used (clock skew, slow quote).
  std::int64_t nonce_margin_ms = 5000;
};

struct CycleEnvironment {
  const StateStore* store = nullptr;
  MeasurementSource* source = nullptr;
  Quoter* quoter = nullptr;
  VerifierClient* verifier = nullptr;
  std::function<bulwark::v1::HostFacts()> host_facts;
  std::function<std::int64_t()> now_unix_ms;
};

struct CycleOutcome {
  bulwark::v1::ResultSummary result;
  bool affirming = false;
  int round_trips = 0;             // HTTP requests this cycle (1 in steady state)
  std::size_t report_bytes = 0;    // of the last report sent
  int incremental_logs = 0;        // logs the last report carried from a cursor
  std::vector<std::string> notes;  // e.g. a refused nonce that was replaced
};

class AttestationCycle {
 public:
  AttestationCycle(CycleOptions options, CycleEnvironment env);
  // Error: no verdict this cycle (not enrolled, TPM, verifier unreachable or a
  // request error such as node-awaiting-approval; verifier_error.h has the code).
  // A verdict of any status is an outcome, not an error.
  [[nodiscard]] Result<CycleOutcome> runOnce();

 private:
  Result<void> ensureNonce(AttestationState& state, CycleOutcome& outcome);
  Result<bulwark::v1::AttestResponse> attestWith(AttestationState& state, CycleOutcome& outcome);
  // Report (logs from the cursors when `incremental`) → quote → Evidence.
  Result<bulwark::v1::Evidence> evidenceFor(const Bytes& nonce, const bulwark::v1::HostFacts& host,
                                            const attest::PcrSelection& selection,
                                            const Collected& collected, bool incremental,
                                            CycleOutcome& outcome);
  std::vector<bulwark::v1::EventLog> shippedLogs(const Collected& collected, bool incremental,
                                                 CycleOutcome& outcome);
  Result<void> acceptResponse(const bulwark::v1::AttestResponse& response, AttestationState& state,
                              CycleOutcome& outcome);

  CycleOptions options_;
  CycleEnvironment env_;
  LogCursors cursors_;
  std::string cursors_boot_id_;  // the boot the cursors belong to
};

// "affirming", "warning", "contraindicated", "none", "unspecified".
std::string statusName(bulwark::v1::Status status);

}  // namespace bulwark::agent
