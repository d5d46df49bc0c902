// The outcome of one appraisal (DESIGN §3 step 4, §9): every check of the pipeline
// records passed or failed in a CheckLedger, and conclude() turns the ledger into a
// Verdict — the AR4SI trustworthiness vector (draft-ietf-rats-ar4si §2.3) plus the
// overall status.
//
// Security invariant: a Verdict is affirming only when every Check was recorded as
// passed and none failed. A ledger starts with every check "not run" (there are no
// default-true flags), the checks that vouch for cryptographic facts can only be
// passed with the proof object of that check (a VerifiedQuote exists only after
// QuoteVerifier accepted the signature; a NonceProof only after the Store consumed
// the nonce), and a Verdict can only be built by conclude().
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "attest/ear/ar4si.h"
#include "attest/quote/verdict.h"

namespace bulwark::server {

// Pipeline checks in the order they run.
enum class Check : std::uint8_t {
  kNode,      // caller authenticated as the node, enrolled, approved, not revoked
  kNonce,     // nonce valid, unexpired, unused, bound to the node (consumed)
  kQuote,     // bank, selection, signature by the enrolled AK, magic/type, extraData, PCR digest
  kTpmClock,  // resetCount/restartCount/clock monotonic
  kLogs,      // every shipped log replays to the quoted PCRs
  kMeasurements,  // measurements in the log and in the approved reference values
  kImages,        // container images allowed by the image rules
  kIsolation,     // container findings within the node group's isolation profile
};
inline constexpr std::size_t kCheckCount = 8;
std::string_view checkName(Check check);

enum class CheckState : std::uint8_t { kNotRun, kPassed, kFailed };

enum class ReasonKind : std::uint8_t {
  kFailure,  // a failed check; lowers the claim it names
  kEvent,    // something worth recording that is not a failure (reboot detected)
  kFinding,  // an isolation finding within the profile (informational)
};

struct Reason {
  ReasonKind kind = ReasonKind::kFailure;
  std::string code;  // stable, e.g. "pcr-digest-mismatch"
  attest::TrustClaim claim = attest::TrustClaim::kInstanceIdentity;
  std::int8_t value = 0;  // AR4SI value this failure gives the claim
  std::string detail;     // which PCR, expected vs actual, which container
  std::string container;  // findings: container id/name
  std::string control;    // findings: control id (also for isolation-violation)
  std::string severity;   // findings: low|medium|high|critical
};

// Proof that the Store consumed this node's nonce (or, for a re-appraisal, that the
// evidence is the stored evidence whose nonce was consumed when it was first
// appraised). Made only by the Appraiser.
class NonceProof {
 private:
  friend class Appraiser;
  friend struct VerdictTestAccess;  // unit tests of the ledger rules
  NonceProof() = default;
};

// Proof that the caller is the enrolled, approved, unrevoked node. Made only by the Appraiser.
class NodeProof {
 private:
  friend class Appraiser;
  friend struct VerdictTestAccess;
  NodeProof() = default;
};

class CheckLedger {
 public:
  void passNode(const NodeProof&) { pass(Check::kNode); }
  void passNonce(const NonceProof&) { pass(Check::kNonce); }
  void passQuote(const attest::VerifiedQuote&) { pass(Check::kQuote); }
  // The remaining checks are pure comparisons over the verified evidence.
  void passClock() { pass(Check::kTpmClock); }
  void passLogs() { pass(Check::kLogs); }
  void passMeasurements() { pass(Check::kMeasurements); }
  void passImages() { pass(Check::kImages); }
  void passIsolation() { pass(Check::kIsolation); }

  // Marks `check` failed (for good: a later pass() does not undo it) and records the
  // reason. A failure whose value would not lower its claim is recorded as
  // crypto-validation-failed (99), so a failure can never read as trust.
  void fail(Check check, Reason reason);
  void event(std::string code, std::string detail);
  void finding(Reason finding);

  CheckState state(Check check) const { return states_[static_cast<std::size_t>(check)]; }
  bool failed(Check check) const { return state(check) == CheckState::kFailed; }
  bool passed(Check check) const { return state(check) == CheckState::kPassed; }
  bool anyFailed() const;
  const std::vector<Reason>& reasons() const { return reasons_; }

 private:
  void pass(Check check);
  std::array<CheckState, kCheckCount> states_{};
  std::vector<Reason> reasons_;
};

class Verdict {
 public:
  attest::Tier status() const { return status_; }
  bool affirming() const { return status_ == attest::Tier::kAffirming; }
  const attest::TrustVector& vector() const { return vector_; }
  // Failures, events and findings in the order they were recorded.
  const std::vector<Reason>& reasons() const { return reasons_; }

 private:
  friend Verdict conclude(const CheckLedger& ledger);
  Verdict() = default;
  attest::Tier status_ = attest::Tier::kNone;
  attest::TrustVector vector_;
  std::vector<Reason> reasons_;
};

// Claims get their affirming value only when every check they depend on passed;
// a claim with a failure gets the worst failure value; a claim whose checks did not
// all run is left absent. Status: affirming iff every check passed; otherwise the
// worst tier of the vector, or none when checks are missing without a failure
// (then a "appraisal-incomplete" reason is added).
Verdict conclude(const CheckLedger& ledger);

// JSON for storage and the API: [{"kind","code","claim","detail",...}].
nlohmann::json reasonsToJson(const std::vector<Reason>& reasons);

}  // namespace bulwark::server
