#include "server/appraisal/pipeline.h"

#include <map>
#include <tuple>

#include "attest/quote/qualifying_data.h"
#include "attest/quote/quote_verifier.h"
#include "server/appraisal/pipeline_util.h"

namespace bulwark::server {

namespace {
using attest::TrustClaim;
namespace ar4si = attest::ar4si;

void failQuote(CheckLedger& ledger, std::string code, std::string detail) {
  ledger.fail(Check::kQuote, makeReason(std::move(code), TrustClaim::kInstanceIdentity,
                                        ar4si::kCryptoValidationFailed, std::move(detail)));
}

std::string quoteCode(attest::RejectReason reason) {
  std::string name(attest::rejectReasonName(reason));
  return name.starts_with("pcr-") ? name : "quote-" + name;
}

// TPM2_Quote binds PCR values of the bank the verifier chose; a quote or value list of
// another bank (sha1 when sha256 was asked) is a downgrade, never "close enough".
bool checkBank(CheckLedger& ledger, const PipelineInput& in) {
  const ParsedEvidence& ev = *in.evidence;
  HashAlg want = expectedBank(in);
  bool ok = true;
  for (const auto& b : ev.quoted.selection.banks()) {
    if (b.alg == want) continue;
    failQuote(ledger, "pcr-bank-mismatch",
              "quote selects the " + std::string(hashAlgName(b.alg)) +
                  " bank; the verifier asked for " + std::string(hashAlgName(want)));
    ok = false;
  }
  for (const auto& b : ev.pcrs) {
    if (b.alg == want) continue;
    failQuote(ledger, "pcr-bank-mismatch",
              "evidence supplies " + std::string(hashAlgName(b.alg)) +
                  " PCR values; the verifier asked for " + std::string(hashAlgName(want)));
    ok = false;
  }
  return ok;
}
}  // namespace

namespace {
// One QuoteVerifier per AK per worker thread: building one sets up OpenSSL verify
// contexts, as costly as the rest of an appraisal of a short log. Keyed by the AK's
// EVP_PKEY and scheme; every cached verifier holds a reference to that EVP_PKEY
// (AkKey copies share it), so a cached address cannot be reused by another key while
// its entry lives.
Result<attest::QuoteVerifier*> verifierFor(const attest::AkKey& ak) {
  using Key = std::tuple<const EVP_PKEY*, std::uint16_t, std::uint16_t>;
  thread_local std::map<Key, attest::QuoteVerifier> cache;
  Key key{ak.pkey(), ak.scheme(), ak.schemeHash()};
  if (auto it = cache.find(key); it != cache.end()) return &it->second;
  auto created = attest::QuoteVerifier::create(ak);
  if (!created) return std::unexpected(created.error());
  if (cache.size() >= 256) cache.clear();  // bounded per thread
  return &cache.emplace(key, std::move(*created)).first->second;
}

}  // namespace

std::optional<attest::QuoteClock> checkQuote(CheckLedger& ledger, const PipelineInput& in) {
  const ParsedEvidence& ev = *in.evidence;
  if (!ev.quoted.is_quote) {
    failQuote(ledger, "quote-attest-type", "TPMS_ATTEST is not a quote (TPM_ST_ATTEST_QUOTE)");
    return std::nullopt;
  }
  if (!checkBank(ledger, in)) return std::nullopt;
  if (!(ev.quoted.selection == *in.expected)) {
    failQuote(ledger, "pcr-selection-mismatch",
              "quote selects " + ev.quoted.selection.toString() + ", the verifier asked for " +
                  in.expected->toString());
    return std::nullopt;
  }
  if (auto r = attest::checkPcrValuesMatch(*in.expected, ev.pcrs); !r) {
    failQuote(ledger, "pcr-selection-mismatch", "supplied PCR values: " + r.error().message());
    return std::nullopt;
  }
  auto verifier = verifierFor(*in.ak);
  if (!verifier) {
    failQuote(ledger, "quote-unverifiable", verifier.error().toString());
    return std::nullopt;
  }
  Bytes qd = attest::qualifyingData(asBytes(ev.report.nonce()), asBytes(ev.report_bytes));
  auto verdict = (*verifier)->verify(ev.attest, ev.signature, {qd, in.expected, ev.pcrs});
  if (!verdict) {
    failQuote(ledger, "quote-unverifiable", verdict.error().toString());
    return std::nullopt;
  }
  if (!verdict->verified()) {
    for (const attest::Rejection& r : verdict->rejections()) {
      failQuote(ledger, quoteCode(r.reason), r.detail);
    }
    return std::nullopt;
  }
  ledger.passQuote(*verdict->quote());
  return verdict->quote()->clockInfo();
}

void checkTpmClock(CheckLedger& ledger, const attest::QuoteClock& now,
                   const std::optional<TpmCounters>& previous) {
  if (!previous) {
    ledger.passClock();
    return;
  }
  auto failClock = [&](std::string code, std::string detail) {
    ledger.fail(Check::kTpmClock,
                makeReason(std::move(code), TrustClaim::kInstanceIdentity,
                           ar4si::instance_identity::kUntrustworthyInstance, std::move(detail)));
  };
  auto from_to = [](std::int64_t a, std::int64_t b) {
    return std::to_string(a) + " -> " + std::to_string(b);
  };
  const TpmCounters& p = *previous;
  // TPMS_CLOCK_INFO (TPM 2.0 Part 2 §10.11.1): resetCount grows with every TPM Reset
  // (reboot), restartCount with every Restart/Resume since the last reset; both go back
  // to 0 only with TPM2_Clear, after which the AK no longer loads (re-enrollment clears
  // the baseline). Clock only moves forward between resets.
  std::int64_t reset = now.reset_count, restart = now.restart_count;
  auto clock = static_cast<std::int64_t>(now.clock);
  if (reset < p.reset_count) {
    failClock("tpm-reset-count-decreased", "resetCount " + from_to(p.reset_count, reset));
  } else if (reset > p.reset_count) {
    ledger.event("reboot-detected", "resetCount " + from_to(p.reset_count, reset));
    ledger.passClock();
  } else if (restart < p.restart_count) {
    failClock("tpm-restart-count-decreased",
              "restartCount " + from_to(p.restart_count, restart) + " without a reset");
  } else if (clock < p.clock) {
    failClock("tpm-clock-rollback", "clock " + from_to(p.clock, clock) + " ms without a reset");
  } else {
    if (restart > p.restart_count) {
      ledger.event("tpm-restart", "restartCount " + from_to(p.restart_count, restart));
    }
    ledger.passClock();
  }
}

std::vector<std::uint32_t> selectedPcrs(const attest::PcrSelection& selection) {
  std::vector<std::uint32_t> out;
  if (selection.empty()) return out;
  for (std::uint32_t i = 0; i < attest::kMaxPcrs; ++i) {
    if ((selection.banks()[0].mask >> i) & 1u) out.push_back(i);
  }
  return out;
}

PipelineResult runPipeline(CheckLedger ledger, const PipelineInput& in) {
  LogChains chains;
  std::optional<LogPolicyMemo> memo;
  std::optional<attest::QuoteClock> clock = checkQuote(ledger, in);
  if (clock) {
    checkTpmClock(ledger, *clock, in.previous);
    chains = checkLogs(ledger, in);
    if (in.memo == nullptr) memo.emplace();
    // Measurements are only as good as the log that carries them.
    if (ledger.passed(Check::kLogs)) checkMeasurements(ledger, in, memo ? &*memo : nullptr);
    else memo.reset();
    checkImages(ledger, in, memo ? &*memo : nullptr);
    checkIsolation(ledger, in);
  }
  std::optional<TpmCounters> counters;
  if (clock && ledger.passed(Check::kQuote) && ledger.passed(Check::kTpmClock)) {
    counters = TpmCounters{clock->reset_count, clock->restart_count,
                           static_cast<std::int64_t>(clock->clock)};
  }
  if (!ledger.passed(Check::kLogs)) {
    chains.clear();
    memo.reset();
  }
  bool logs_passed = ledger.passed(Check::kLogs);
  return {conclude(ledger), counters, std::move(chains), logs_passed, std::move(memo)};
}

}  // namespace bulwark::server
