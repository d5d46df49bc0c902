#include "server/appraisal/verdict.h"

#include <initializer_list>
#include <nlohmann/json.hpp>

namespace bulwark::server {

namespace {
using attest::Tier;
using attest::TrustClaim;

// Which checks each claim rests on (docs/verifier.md "Trust vector").
struct ClaimRule {
  TrustClaim claim;
  std::int8_t affirming;
  std::initializer_list<Check> depends;
};

constexpr Check kBase[] = {Check::kNode, Check::kNonce, Check::kQuote, Check::kTpmClock};

const std::array<ClaimRule, 6>& claimRules() {
  static const std::array<ClaimRule, 6> kRules = {{
      {TrustClaim::kInstanceIdentity, attest::ar4si::instance_identity::kTrustworthyInstance, {}},
      {TrustClaim::kHardware, attest::ar4si::hardware::kGenuineHardware, {}},
      {TrustClaim::kExecutables,
       attest::ar4si::executables::kApprovedRuntime,
       {Check::kLogs, Check::kMeasurements}},
      {TrustClaim::kFileSystem,
       attest::ar4si::file_system::kApprovedFiles,
       {Check::kLogs, Check::kMeasurements}},
      {TrustClaim::kConfiguration,
       attest::ar4si::configuration::kApprovedConfig,
       {Check::kLogs, Check::kMeasurements, Check::kIsolation}},
      {TrustClaim::kSourcedData, attest::ar4si::sourced_data::kTrustedSources, {Check::kImages}},
  }};
  return kRules;
}

// "Worse" in AR4SI terms: higher tier first (contraindicated > warning > ...).
int severity(std::int8_t value) {
  switch (attest::tierOf(value)) {
    case Tier::kContraindicated:
      return 3;
    case Tier::kWarning:
      return 2;
    case Tier::kAffirming:
      return 1;
    case Tier::kNone:
      return 0;
  }
  return 0;
}

bool lowersTrust(std::int8_t value) { return severity(value) >= 2; }

// Details quote evidence (IMA paths are arbitrary bytes): bounded, valid UTF-8, so the
// stored JSON and the signed EAR can always be serialised.
constexpr std::size_t kMaxDetail = 1024;
std::string cleanText(std::string text) {
  if (text.size() > kMaxDetail) text.resize(kMaxDetail);
  std::string dumped = nlohmann::json(std::move(text))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(dumped).get<std::string>();
}
}  // namespace

std::string_view checkName(Check check) {
  switch (check) {
    case Check::kNode:
      return "node";
    case Check::kNonce:
      return "nonce";
    case Check::kQuote:
      return "quote";
    case Check::kTpmClock:
      return "tpm-clock";
    case Check::kLogs:
      return "logs";
    case Check::kMeasurements:
      return "measurements";
    case Check::kImages:
      return "images";
    case Check::kIsolation:
      return "isolation";
  }
  return "unknown";
}

void CheckLedger::pass(Check check) {
  auto& s = states_[static_cast<std::size_t>(check)];
  if (s != CheckState::kFailed) s = CheckState::kPassed;
}

void CheckLedger::fail(Check check, Reason reason) {
  states_[static_cast<std::size_t>(check)] = CheckState::kFailed;
  reason.kind = ReasonKind::kFailure;
  reason.detail = cleanText(std::move(reason.detail));
  if (!lowersTrust(reason.value)) reason.value = attest::ar4si::kCryptoValidationFailed;
  reasons_.push_back(std::move(reason));
}

void CheckLedger::event(std::string code, std::string detail) {
  Reason r;
  r.kind = ReasonKind::kEvent;
  r.code = std::move(code);
  r.detail = cleanText(std::move(detail));
  reasons_.push_back(std::move(r));
}

void CheckLedger::finding(Reason finding) {
  finding.kind = ReasonKind::kFinding;
  finding.value = 0;
  finding.detail = cleanText(std::move(finding.detail));
  reasons_.push_back(std::move(finding));
}

bool CheckLedger::anyFailed() const {
  for (CheckState s : states_) {
    if (s == CheckState::kFailed) return true;
  }
  return false;
}

Verdict conclude(const CheckLedger& ledger) {
  Verdict v;
  v.reasons_ = ledger.reasons();
  for (const ClaimRule& rule : claimRules()) {
    std::optional<std::int8_t> worst;
    for (const Reason& r : ledger.reasons()) {
      if (r.kind != ReasonKind::kFailure || r.claim != rule.claim) continue;
      if (!worst || severity(r.value) > severity(*worst)) worst = r.value;
    }
    if (worst) {
      v.vector_.set(rule.claim, *worst);
      continue;
    }
    bool all_passed = true;
    for (Check c : kBase) all_passed = all_passed && ledger.passed(c);
    for (Check c : rule.depends) all_passed = all_passed && ledger.passed(c);
    if (all_passed) v.vector_.set(rule.claim, rule.affirming);
  }
  bool complete = true;
  for (std::size_t i = 0; i < kCheckCount; ++i) {
    complete = complete && ledger.passed(static_cast<Check>(i));
  }
  if (complete && !ledger.anyFailed()) {
    v.status_ = v.vector_.worstTier();
  } else if (ledger.anyFailed()) {
    Tier worst = v.vector_.worstTier();
    // A failure always lowers some claim (fail() guarantees the value), so this is
    // warning or contraindicated; never affirming.
    v.status_ = worst == Tier::kAffirming || worst == Tier::kNone ? Tier::kContraindicated : worst;
  } else {
    v.status_ = Tier::kNone;
    Reason r;
    r.code = "appraisal-incomplete";
    r.value = attest::ar4si::kVerifierMalfunction;
    r.detail = "not every check ran; no trust is asserted";
    r.kind = ReasonKind::kFailure;
    v.reasons_.push_back(std::move(r));
  }
  return v;
}

nlohmann::json reasonsToJson(const std::vector<Reason>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (const Reason& r : reasons) {
    nlohmann::json j;
    j["kind"] = r.kind == ReasonKind::kFailure ? "failure"
                : r.kind == ReasonKind::kEvent ? "event"
                                               : "finding";
    j["code"] = r.code;
    if (r.kind == ReasonKind::kFailure) j["claim"] = std::string(attest::trustClaimName(r.claim));
    j["detail"] = r.detail;
    if (!r.container.empty()) j["container"] = r.container;
    if (!r.control.empty()) j["control"] = r.control;
    if (!r.severity.empty()) j["severity"] = r.severity;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace bulwark::server
