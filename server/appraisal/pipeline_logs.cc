// Log replay stage: every shipped log must reproduce the quoted PCR values of the
// verifier's bank (DESIGN §3 step 4, §4). PCRs extended by several logs are chained in
// a fixed order: firmware log, then CEL logs in Report order (docs/api.md).
#include <map>
#include <set>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_replay.h"
#include "attest/eventlog/replay.h"
#include "attest/ima/ima_appraisal.h"
#include "server/appraisal/pipeline_util.h"

namespace bulwark::server {

namespace {
using attest::TrustClaim;
using bulwark::v1::EventLog;
namespace ar4si = attest::ar4si;

constexpr std::uint32_t kImaPcr = 10;
constexpr std::uint32_t kBootPcrMask = 0x3FF;  // PCRs 0-9 (TCG PC Client PFP §3.3.4)

std::string shortHex(ByteView b) { return toHex(b); }

struct LogReplayState {
  HashAlg bank;
  std::map<std::uint32_t, Bytes> chain;  // PCR → value after the logs so far
  bool failed = false;
  LogChains per_log;  // CEL logs: the PCRs each extended (its copy's included) → value after it
};

const ParsedLog* findLog(const ParsedEvidence& ev, EventLog::Format f) {
  for (const ParsedLog& l : ev.logs) {
    if (l.format == f) return &l;
  }
  return nullptr;
}

void replayFirmware(CappedFailures& out, const ParsedLog& log, std::uint32_t mask,
                    LogReplayState& st) {
  auto rep = attest::eventlog::replay(*log.tcg);
  if (!rep) {
    out.add(makeReason("log-does-not-replay", TrustClaim::kExecutables,
                       ar4si::kCryptoValidationFailed, log.label() + ": " + rep.error().message()));
    st.failed = true;
    return;
  }
  auto bank = rep->banks.find(st.bank);
  if (bank == rep->banks.end()) {
    out.add(makeReason("log-does-not-replay", TrustClaim::kExecutables,
                       ar4si::kCryptoValidationFailed,
                       log.label() + " has no " + std::string(hashAlgName(st.bank)) + " bank"));
    st.failed = true;
    return;
  }
  std::set<std::uint32_t> extended(rep->extended_pcrs.begin(), rep->extended_pcrs.end());
  for (const auto& [pcr, value] : bank->second) {
    bool selected = (mask >> pcr) & 1u;
    if (selected && (pcr < 10 || extended.count(pcr) > 0)) st.chain[pcr] = value;
  }
}

// An incremental log resumes from the verifier's copy: the chain after the copy's
// records, then the shipped records on top (log_copies.h).
const CopyState* copyFor(CappedFailures& out, const ParsedLog& log, const PipelineInput& in,
                         LogReplayState& st) {
  const CopyState* copy = in.resume;
  if (copy == nullptr || copy->source != log.source || copy->bank != st.bank ||
      copy->offset != log.offset || copy->entries != log.entries_before) {
    out.add(makeReason("log-prefix-unknown", TrustClaim::kExecutables,
                       ar4si::kCryptoValidationFailed,
                       log.label() + " is shipped from offset " + std::to_string(log.offset) +
                           " but the verifier holds no verified copy ending there"));
    st.failed = true;
    return nullptr;
  }
  return copy;
}

// Whether the chain so far leaves `pcr` at its reset value (no earlier log extended it).
bool atReset(const LogReplayState& st, std::uint32_t pcr) {
  auto it = st.chain.find(pcr);
  return it == st.chain.end() || it->second == attest::pcrResetValue(st.bank, pcr);
}

// Only Bulwark records, whose digests bind their entries, may extend the measurement
// PCR: any other content type there would let a log relabel a batch record and keep its
// digest while its entries vanish from the appraisal.
void checkMeasurementPcrRecords(CappedFailures& out, const ParsedLog& log, const PipelineInput& in,
                                LogReplayState& st) {
  for (const attest::CelRecord& r : log.cel->records) {
    if (!r.pcr || *r.pcr != in.measurement_pcr || r.isNoAction() ||
        r.content_type == attest::kBulwarkContentType)
      continue;
    out.add(makeReason(
        "log-record-invalid", TrustClaim::kExecutables, ar4si::kCryptoValidationFailed,
        log.label() + " record " + std::to_string(r.index) + " at offset " +
            std::to_string(r.offset) + " extends the measurement PCR " +
            std::to_string(in.measurement_pcr) + " with content type '" +
            r.content_type.substr(0, 64) +
            "': only Bulwark records may (if systemd measures into this PCR, choose another "
            "appraisal.measurement_pcr)"));
    st.failed = true;
  }
}

void replayCelLog(CappedFailures& out, const ParsedLog& log, const PipelineInput& in,
                  LogReplayState& st) {
  const CopyState* copy = nullptr;
  if (log.incremental() && (copy = copyFor(out, log, in, st)) == nullptr) return;
  for (const attest::CelFinding& f : attest::checkBulwarkRecords(*log.cel)) {
    out.add(makeReason("log-record-invalid", TrustClaim::kExecutables,
                       ar4si::kCryptoValidationFailed,
                       log.label() + " record " + std::to_string(f.record_index) + " at offset " +
                           std::to_string(f.offset) + ": " + f.reason));
    st.failed = true;
  }
  checkMeasurementPcrRecords(out, log, in, st);
  // A copy was verified starting from reset PCRs (concludeLogs keeps no other): the logs
  // before it in this report must not have extended them, or the chain differs from the
  // one a whole-log appraisal would replay.
  bool from_reset = true;
  if (copy != nullptr) {
    for (const auto& [pcr, value] : copy->chain) {
      if (atReset(st, pcr)) continue;
      out.add(makeReason("log-does-not-replay", TrustClaim::kExecutables,
                         ar4si::kCryptoValidationFailed,
                         log.label() + " continues a copy verified from PCR " +
                             std::to_string(pcr) + "'s reset value, but a log before it extends "
                             "that PCR"));
      st.failed = true;
      return;
    }
  }
  for (const attest::CelRecord& r : log.cel->records) {
    if (r.pcr && !r.isNoAction() && !atReset(st, *r.pcr)) from_reset = false;
  }
  attest::CelReplayOptions opt;
  opt.banks = {st.bank};
  for (const auto& [pcr, value] : st.chain) opt.initial[{st.bank, pcr}] = value;
  std::map<std::uint32_t, Bytes> after;
  if (copy != nullptr) {
    for (const auto& [pcr, value] : copy->chain) {
      opt.initial[{st.bank, pcr}] = value;
      after[pcr] = value;
    }
  }
  attest::CelReplay rep = attest::replayCel(*log.cel, opt);
  auto it = rep.banks.find(st.bank);
  if (it == rep.banks.end() || !it->second) {
    std::string why = it == rep.banks.end() ? "no " + std::string(hashAlgName(st.bank)) + " digests"
                                            : it->second.error().message();
    out.add(makeReason("log-does-not-replay", TrustClaim::kExecutables,
                       ar4si::kCryptoValidationFailed, log.label() + ": " + why));
    st.failed = true;
    return;
  }
  // (checked before the replay: `from_reset` reads the chain as it was before this log)
  for (const auto& [pcr, value] : *it->second) st.chain[pcr] = value;
  // The result also lists the start values; a copy keeps only what this log extended,
  // and only a log that started from reset PCRs can be resumed from its copy.
  for (const attest::CelRecord& r : log.cel->records) {
    if (r.pcr && !r.isNoAction()) after[*r.pcr] = it->second->at(*r.pcr);
  }
  if (from_reset) st.per_log[log.index] = std::move(after);
}

void replayIma(CheckLedger& ledger, CappedFailures& out, const ParsedLog& log, const Bytes& quoted,
               const PipelineInput& in, LogReplayState& st) {
  attest::ima::ImaPolicy permissive;
  permissive.excludes = {"*"};
  permissive.allow_violations = true;
  const attest::ima::ImaPolicy& policy = in.ima_policy ? *in.ima_policy : permissive;
  attest::ima::ImaPcrs q{{st.bank, {{kImaPcr, quoted}}}};
  auto res = attest::ima::appraiseIma(attest::ima::ImaState{}, log.ima, q, policy);
  if (res.outcome == attest::ima::ImaOutcome::kDoesNotReplay ||
      res.outcome == attest::ima::ImaOutcome::kMalformed) {
    out.add(makeReason("log-does-not-replay", TrustClaim::kFileSystem,
                       ar4si::kCryptoValidationFailed, log.label() + ": " + res.detail));
    st.failed = true;
    return;
  }
  CappedFailures policy_failures(ledger, Check::kMeasurements);
  for (const attest::ima::ImaFinding& f : res.findings) {
    std::string detail =
        log.label() + " entry " + std::to_string(f.entry_index) + " " + f.path + ": " + f.detail;
    if (f.kind == attest::ima::ImaFindingKind::kTemplateHashMismatch) {
      out.add(makeReason("log-record-invalid", TrustClaim::kFileSystem,
                         ar4si::kCryptoValidationFailed, std::move(detail)));
      st.failed = true;
    } else {
      policy_failures.add(makeReason("ima-policy-violation", TrustClaim::kFileSystem,
                                     ar4si::file_system::kUnrecognizedFiles, std::move(detail)));
    }
  }
}

// AR4SI claim and value of a failed boot-policy rule (docs/boot-policy.md mapping).
std::pair<TrustClaim, std::int8_t> bootClaim(attest::eventlog::BootReason r) {
  using attest::eventlog::BootReason;
  switch (r) {
    case BootReason::kBootAppNotAllowed:
      return {TrustClaim::kExecutables, ar4si::executables::kUnrecognizedRuntime};
    case BootReason::kDigestRevoked:
      return {TrustClaim::kExecutables, ar4si::executables::kContraindicatedRuntime};
    default:
      return {TrustClaim::kConfiguration, ar4si::configuration::kUnsafeConfig};
  }
}

// Boot policy over a firmware log that already replayed to the quote: evidence problems
// the policy finds (pcr-not-quoted, log-inconsistent) fail the log check, policy rules
// the measurements check.
void checkBootPolicy(CheckLedger& ledger, const ParsedLog& log, const std::map<std::uint32_t, Bytes>& quoted,
                     const PipelineInput& in, LogReplayState& st) {
  attest::eventlog::PcrBanks banks;
  for (const auto& [pcr, value] : quoted) {
    if (pcr < 10) banks[st.bank][pcr] = value;  // the firmware log's PCRs only
  }
  auto appraisal = attest::eventlog::appraiseBootLog(asBytes(log.raw), banks, *in.boot_policy);
  CappedFailures logs(ledger, Check::kLogs);
  CappedFailures policy(ledger, Check::kMeasurements);
  for (const auto& c : appraisal.claims) {
    if (c.passed()) continue;
    std::string code(attest::eventlog::bootReasonName(c.reason));
    std::string detail = log.label() + ": " + c.rule + ": " + c.detail;
    if (attest::eventlog::isEvidenceFailure(c.reason)) {
      logs.add(makeReason(code, TrustClaim::kExecutables, ar4si::kCryptoValidationFailed, std::move(detail)));
      st.failed = true;
    } else {
      auto [claim, value] = bootClaim(c.reason);
      policy.add(makeReason(code, claim, value, std::move(detail)));
    }
  }
}

void compareChain(CappedFailures& out, const PipelineInput& in,
                  const std::map<std::uint32_t, Bytes>& quoted, bool ima_shipped,
                  LogReplayState& st) {
  for (const auto& [pcr, value] : quoted) {
    if (pcr == kImaPcr && ima_shipped) continue;
    TrustClaim claim = pcr < 10 || pcr == in.measurement_pcr ? TrustClaim::kExecutables
                                                             : TrustClaim::kConfiguration;
    std::string label =
        "PCR " + std::to_string(pcr) + " (" + std::string(hashAlgName(st.bank)) + ")";
    auto it = st.chain.find(pcr);
    if (it != st.chain.end()) {
      if (it->second == value) continue;
      out.add(makeReason(
          "log-does-not-replay", claim, ar4si::kCryptoValidationFailed,
          label + ": quoted " + shortHex(value) + ", logs replay to " + shortHex(it->second)));
      st.failed = true;
    } else if (value != attest::pcrResetValue(st.bank, pcr) || pcr == in.measurement_pcr) {
      // An extended PCR no log explains; the measurement PCR must always be explained.
      out.add(makeReason(
          "log-missing", claim, ar4si::kCryptoValidationFailed,
          label + " is quoted as " + shortHex(value) + " but no shipped log extends it"));
      st.failed = true;
    }
  }
}
}  // namespace

LogChains checkLogs(CheckLedger& ledger, const PipelineInput& in) {
  const ParsedEvidence& ev = *in.evidence;
  LogReplayState st{expectedBank(in), {}, false, {}};
  std::uint32_t mask = expectedMask(in);
  std::map<std::uint32_t, Bytes> quoted;
  for (const auto& b : ev.pcrs) {
    if (b.alg != st.bank) continue;
    for (const auto& v : b.values) quoted[v.index] = v.value;
  }
  {
    CappedFailures out(ledger, Check::kLogs);
    if (ev.report.measurement_pcr() != in.measurement_pcr) {
      out.add(makeReason("measurement-pcr-mismatch", TrustClaim::kExecutables,
                         ar4si::kCryptoValidationFailed,
                         "report says PCR " + std::to_string(ev.report.measurement_pcr()) +
                             ", the verifier measures PCR " + std::to_string(in.measurement_pcr)));
      st.failed = true;
    }
    if (const ParsedLog* fw = findLog(ev, EventLog::TCG_PC_CLIENT); fw && (mask & kBootPcrMask)) {
      replayFirmware(out, *fw, mask, st);
    } else if (mask & kBootPcrMask) {
      out.add(makeReason("log-missing", TrustClaim::kExecutables, ar4si::kCryptoValidationFailed,
                         "boot PCRs are quoted but no firmware (TCG PC Client) log was sent"));
      st.failed = true;
    }
    for (const ParsedLog& l : ev.logs) {
      if (l.format == EventLog::CEL_JSON) replayCelLog(out, l, in, st);
    }
    bool cel_shipped = false;
    for (const ParsedLog& l : ev.logs) cel_shipped = cel_shipped || l.format == EventLog::CEL_JSON;
    // A shipped CEL log explains the measurement PCR even before its first extend.
    if (cel_shipped && st.chain.count(in.measurement_pcr) == 0) {
      st.chain[in.measurement_pcr] = attest::pcrResetValue(st.bank, in.measurement_pcr);
    }
    const ParsedLog* ima = findLog(ev, EventLog::IMA_ASCII);
    bool ima_quoted = ((mask >> kImaPcr) & 1u) != 0;
    if (ima && ima_quoted) replayIma(ledger, out, *ima, quoted[kImaPcr], in, st);
    compareChain(out, in, quoted, ima && ima_quoted, st);
  }
  const ParsedLog* fw = findLog(ev, EventLog::TCG_PC_CLIENT);
  if (!st.failed && fw && in.boot_policy && (mask & kBootPcrMask)) checkBootPolicy(ledger, *fw, quoted, in, st);
  if (st.failed) return {};
  ledger.passLogs();
  return std::move(st.per_log);
}

}  // namespace bulwark::server
