// Boot policy over BootFacts, and the whole firmware-log appraisal a verifier runs:
// parse → replay against the quoted PCRs → facts → policy. Pure.
//
// Every outcome is a claim with a named reason. The reasons keep apart
//   "could not use the log"    (log-malformed, log-does-not-replay, pcr-not-quoted,
//                               log-inconsistent)
//   "log is good, boot is not" (secure-boot-disabled, boot-app-revoked, ...).
// A verifier maps the first group to "evidence not trustworthy" and the second to a
// policy verdict (AR4SI hardware / executables / configuration).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"
#include "attest/eventlog/boot_facts.h"
#include "attest/eventlog/replay.h"

namespace bulwark::attest::eventlog {

enum class BootReason {
  kOk,
  // The log cannot be used as evidence.
  kLogMalformed,       // does not parse / replay structurally
  kLogDoesNotReplay,   // replayed PCRs differ from the quoted ones
  kPcrNotQuoted,       // a PCR the policy relies on was not in the quote
  kLogInconsistent,    // replays, but event data contradicts the digests it claims
  // The log is good evidence and the boot violates the policy.
  kSecureBootDisabled,
  kSecureBootUnknown,  // no SecureBoot variable measured
  kSeparatorMissing,
  kSeparatorError,
  kBootAppNotAllowed,
  kDigestRevoked,
  kCmdlineMissing,
  kCmdlineUnbound,     // a measured command line is not bound to its digest
  kCmdlineRequiredAbsent,
  kCmdlineForbiddenPresent,
  kVariableMissing,
  kVariableNotAllowed,
};

// Stable names: "log-does-not-replay", "secure-boot-disabled", ...
std::string_view bootReasonName(BootReason reason);
// True for the reasons that mean "the log cannot be used as evidence".
bool isEvidenceFailure(BootReason reason);

struct BootClaim {
  std::string rule;  // "replay", "secure-boot", "kernel-cmdline forbid \"init=\"", ...
  BootReason reason = BootReason::kOk;
  std::string detail;
  bool passed() const { return reason == BootReason::kOk; }
};

struct CmdlineRule {
  enum class Kind { kRequireSubstring, kForbidSubstring, kRequireRegex, kForbidRegex };
  Kind kind = Kind::kRequireSubstring;
  std::string pattern;  // ECMAScript regex for the regex kinds
};

struct BootPolicy {
  bool require_secure_boot = true;
  bool require_separators = true;
  HashAlg digest_alg = HashAlg::kSha256;  // bank for allowed_boot_applications
  // When set, every EV_EFI_BOOT_SERVICES_APPLICATION digest must be listed (hex).
  std::optional<std::set<std::string>> allowed_boot_applications;
  // Digests (hex, any bank) no loaded image, kernel or initrd may have (dbx-revoked).
  std::set<std::string> forbidden_digests;
  std::vector<CmdlineRule> cmdline_rules;
  // Variable name ("PK", "KEK", "db", "dbx") → allowed SHA-256 of its data (hex).
  std::map<std::string, std::set<std::string>> allowed_variables;
};

// A policy whose regexes compiled. Built only by compileBootPolicy.
class CompiledBootPolicy {
 public:
  const BootPolicy& policy() const { return policy_; }
  // Matches rule `index`'s regex against `text`; nullopt when it could not be
  // evaluated (input over the regex length cap, or the engine gave up).
  std::optional<bool> regexMatches(std::size_t index, std::string_view text) const;
  ~CompiledBootPolicy();
  CompiledBootPolicy(CompiledBootPolicy&&) noexcept;
  CompiledBootPolicy& operator=(CompiledBootPolicy&&) noexcept;

 private:
  friend Result<CompiledBootPolicy> compileBootPolicy(BootPolicy policy);
  struct Regexes;
  CompiledBootPolicy(BootPolicy policy, std::unique_ptr<Regexes> regexes);
  BootPolicy policy_;
  std::unique_ptr<Regexes> regexes_;
};

// Errors: kInvalidArgument for a regex that does not compile or a malformed hex digest.
[[nodiscard]] Result<CompiledBootPolicy> compileBootPolicy(BootPolicy policy);

// Policy from JSON (see docs/boot-policy.md). Unknown keys are errors.
[[nodiscard]] Result<BootPolicy> parseBootPolicyJson(std::string_view json);

// Evaluates the policy: one claim per rule the policy enables (passed or not).
std::vector<BootClaim> evaluateBootPolicy(const BootFacts& facts, const CompiledBootPolicy& policy);

// PCRs whose quoted values the policy's facts depend on.
std::set<std::uint32_t> pcrsUsedBy(const BootPolicy& policy);

struct BootAppraisal {
  std::vector<BootClaim> claims;  // never empty
  std::optional<Replay> replay;   // set once the log replayed structurally
  std::optional<BootFacts> facts; // set once the log replayed to the quote
  // True only when there is at least one claim and every claim passed.
  bool affirming() const;
  // The first failing claim's reason (kOk when affirming).
  BootReason primaryReason() const;
};

// The full appraisal. `quoted` holds the PCR values from a verified quote; only PCRs
// present there are compared, so the caller decides the selection (and must quote
// every PCR in pcrsUsedBy(policy), else the claim says pcr-not-quoted). Facts are
// taken only from records of quoted PCRs (e.g. a systemd-stub command line in PCR 12
// counts only when PCR 12 was quoted).
BootAppraisal appraiseBootLog(ByteView log, const PcrBanks& quoted, const CompiledBootPolicy& policy);

}  // namespace bulwark::attest::eventlog
