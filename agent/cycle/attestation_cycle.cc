#include "agent/cycle/attestation_cycle.h"

#include "agent/cycle/report_builder.h"
#include "agent/enroll/pcr_choice.h"
#include "agent/transport/verifier_error.h"
#include "attest/quote/qualifying_data.h"

namespace bulwark::agent {

namespace {

Bytes toBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::uint32_t maskOf(const PcrChoice& choice) {
  std::uint32_t mask = 0;
  for (std::uint32_t i : choice.indices) mask |= i < 32 ? (1u << i) : 0;
  return mask;
}

}  // namespace

std::string statusName(bulwark::v1::Status status) {
  switch (status) {
    case bulwark::v1::STATUS_AFFIRMING:
      return "affirming";
    case bulwark::v1::STATUS_WARNING:
      return "warning";
    case bulwark::v1::STATUS_CONTRAINDICATED:
      return "contraindicated";
    case bulwark::v1::STATUS_NONE:
      return "none";
    default:
      return "unspecified";
  }
}

AttestationCycle::AttestationCycle(CycleOptions options, CycleEnvironment env)
    : options_(std::move(options)), env_(std::move(env)) {}

Result<void> AttestationCycle::ensureNonce(AttestationState& state, CycleOutcome& outcome) {
  std::int64_t now = env_.now_unix_ms();
  bool usable =
      !state.nonce.empty() && (state.nonce_expires_unix_ms == 0 ||
                               now + options_.nonce_margin_ms < state.nonce_expires_unix_ms);
  if (usable) return {};
  ++outcome.round_trips;
  auto fresh = env_.verifier->nonce();
  if (!fresh) return std::unexpected(fresh.error());
  if (fresh->nonce().empty()) return fail(ErrorCode::kMalformed, "empty nonce", "GET /v1/nonce");
  auto pcr = pcrChoiceFrom(fresh->pcr_bank(), fresh->pcr_selection());
  if (!pcr) return std::unexpected(pcr.error());
  state.nonce = toBytes(fresh->nonce());
  state.nonce_expires_unix_ms = fresh->nonce_expires_unix_ms();
  state.pcr = *pcr;
  return {};
}

std::vector<bulwark::v1::EventLog> AttestationCycle::shippedLogs(const Collected& collected,
                                                                 bool incremental,
                                                                 CycleOutcome& outcome) {
  std::vector<bulwark::v1::EventLog> logs;
  logs.reserve(collected.logs.size());
  outcome.incremental_logs = 0;
  for (const bulwark::v1::EventLog& whole : collected.logs) {
    if (!incremental) {
      logs.push_back(whole);
      continue;
    }
    auto file = collected.log_files.find(whole.source());
    ShippedLog shipped = cursors_.ship(
        whole, file == collected.log_files.end() ? std::nullopt : std::optional(file->second));
    if (!shipped.note.empty()) outcome.notes.push_back(std::move(shipped.note));
    if (shipped.incremental) ++outcome.incremental_logs;
    logs.push_back(std::move(shipped.log));
  }
  return logs;
}

Result<bulwark::v1::Evidence> AttestationCycle::evidenceFor(
    const Bytes& nonce, const bulwark::v1::HostFacts& host, const attest::PcrSelection& selection,
    const Collected& collected, bool incremental, CycleOutcome& outcome) {
  ReportInputs inputs{.node = options_.node,
                      .nonce = nonce,
                      .created_unix_ms = env_.now_unix_ms(),
                      .host = host,
                      .measurement_pcr = options_.measurement_pcr};
  auto report = buildReport(inputs, collected, shippedLogs(collected, incremental, outcome));
  if (!report) return std::unexpected(report.error());
  outcome.report_bytes = report->size();
  Bytes qualifying = attest::qualifyingData(nonce, asBytes(*report));
  auto quote = env_.quoter->quote(selection, qualifying);
  if (!quote) return std::unexpected(quote.error());
  return buildEvidence(std::move(*report), *quote);
}

Result<bulwark::v1::AttestResponse> AttestationCycle::attestWith(AttestationState& state,
                                                                 CycleOutcome& outcome) {
  if (auto r = ensureNonce(state, outcome); !r) return std::unexpected(r.error());
  auto selection = pcrSelectionFor(state.pcr);
  if (!selection) return std::unexpected(selection.error());
  auto collected = env_.source->collect(maskOf(state.pcr));
  if (!collected) return std::unexpected(collected.error());
  outcome.notes.insert(outcome.notes.end(), collected->notes.begin(), collected->notes.end());
  bulwark::v1::HostFacts host = env_.host_facts ? env_.host_facts() : bulwark::v1::HostFacts{};
  if (host.boot_id() != cursors_boot_id_) {
    cursors_.clear();  // a new boot's logs start afresh (the old ones were rotated away)
    cursors_boot_id_ = host.boot_id();
  }
  const Bytes nonce = state.nonce;
  auto evidence = evidenceFor(nonce, host, *selection, *collected, true, outcome);
  if (!evidence) return std::unexpected(evidence.error());
  // The nonce is spent from here on, whatever happens to the request.
  state.nonce.clear();
  state.nonce_expires_unix_ms = 0;
  if (auto r = env_.store->saveAttestation(state); !r) return std::unexpected(r.error());
  ++outcome.round_trips;
  auto response = env_.verifier->attest(*evidence);
  if (response || outcome.incremental_logs == 0 || !isLogPrefixUnknown(response.error())) {
    return response;
  }
  // Not consumed by a 409 log-prefix-unknown: the same nonce goes out once more.
  outcome.notes.push_back(
      "verifier does not hold the log prefix the report built on (" +
      std::string(kLogPrefixUnknown) +
      ": another replica or restored state): sent the whole logs again with the same nonce");
  cursors_.clear();
  evidence = evidenceFor(nonce, host, *selection, *collected, false, outcome);
  if (!evidence) return std::unexpected(evidence.error());
  ++outcome.round_trips;
  return env_.verifier->attest(*evidence);
}

Result<void> AttestationCycle::acceptResponse(const bulwark::v1::AttestResponse& response,
                                              AttestationState& state, CycleOutcome& outcome) {
  outcome.result = response.result();
  outcome.affirming = response.result().status() == bulwark::v1::STATUS_AFFIRMING;
  state.last_status = statusName(response.result().status());
  state.last_attest_unix_ms = env_.now_unix_ms();
  cursors_.replace(response.log_cursors());
  if (!response.next_nonce().empty()) {
    auto pcr = pcrChoiceFrom(response.pcr_bank(), response.pcr_selection());
    if (pcr) {
      state.nonce = toBytes(response.next_nonce());
      state.nonce_expires_unix_ms = response.nonce_expires_unix_ms();
      state.pcr = *pcr;
    } else {
      outcome.notes.push_back("ignoring the next nonce: " + pcr.error().toString());
    }
  }
  return env_.store->saveAttestation(state);
}

Result<CycleOutcome> AttestationCycle::runOnce() {
  auto lock = env_.store->lockCycle();
  if (!lock) return std::unexpected(lock.error());
  auto state = env_.store->loadAttestation();
  if (!state) return std::unexpected(state.error());
  CycleOutcome outcome;
  auto response = attestWith(*state, outcome);
  if (!response && isNonceError(response.error())) {
    outcome.notes.push_back("verifier refused the held nonce (" +
                            verifierErrorCode(response.error()).value_or("") +
                            "): fetched a fresh one and attested again");
    state->nonce.clear();
    response = attestWith(*state, outcome);
  }
  if (!response) {
    // What the verifier now holds is unknown (a lost answer may have been stored):
    // the next cycle sends whole logs and learns the cursors again.
    cursors_.clear();
    return std::unexpected(response.error());
  }
  if (auto r = acceptResponse(*response, *state, outcome); !r) return std::unexpected(r.error());
  return outcome;
}

}  // namespace bulwark::agent
