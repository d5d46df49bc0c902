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

Result<bulwark::v1::AttestResponse> AttestationCycle::attestWith(AttestationState& state,
                                                                 CycleOutcome& outcome) {
  if (auto r = ensureNonce(state, outcome); !r) return std::unexpected(r.error());
  auto selection = pcrSelectionFor(state.pcr);
  if (!selection) return std::unexpected(selection.error());
  auto collected = env_.source->collect(maskOf(state.pcr));
  if (!collected) return std::unexpected(collected.error());
  outcome.notes.insert(outcome.notes.end(), collected->notes.begin(), collected->notes.end());
  ReportInputs inputs{.node = options_.node,
                      .nonce = state.nonce,
                      .created_unix_ms = env_.now_unix_ms(),
                      .host = env_.host_facts ? env_.host_facts() : bulwark::v1::HostFacts{},
                      .collected = std::move(*collected),
                      .measurement_pcr = options_.measurement_pcr};
  auto report = buildReport(inputs);
  if (!report) return std::unexpected(report.error());
  outcome.report_bytes = report->size();
  Bytes qualifying = attest::qualifyingData(state.nonce, asBytes(*report));
  auto quote = env_.quoter->quote(*selection, qualifying);
  if (!quote) return std::unexpected(quote.error());
  // The nonce is spent from here on, whatever happens to the request.
  Bytes used = std::move(state.nonce);
  state.nonce.clear();
  state.nonce_expires_unix_ms = 0;
  if (auto r = env_.store->saveAttestation(state); !r) return std::unexpected(r.error());
  ++outcome.round_trips;
  return env_.verifier->attest(buildEvidence(std::move(*report), *quote));
}

Result<void> AttestationCycle::acceptResponse(const bulwark::v1::AttestResponse& response,
                                              AttestationState& state, CycleOutcome& outcome) {
  outcome.result = response.result();
  outcome.affirming = response.result().status() == bulwark::v1::STATUS_AFFIRMING;
  state.last_status = statusName(response.result().status());
  state.last_attest_unix_ms = env_.now_unix_ms();
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
  if (!response) return std::unexpected(response.error());
  if (auto r = acceptResponse(*response, *state, outcome); !r) return std::unexpected(r.error());
  return outcome;
}

}  // namespace bulwark::agent
