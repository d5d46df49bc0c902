// IMA appraisal for a verifier: continue a saved replay with the lines the agent
// appended, find the point where the running PCR values equal the quoted ones, and
// evaluate the runtime policy over the entries up to that point. Pure.
//
// The agent reads the list after quoting, so the list may run ahead of the quote; the
// entries past the matching point are left for the next attestation (the state only
// advances to the match). "Does not replay" (no prefix matches the quote) and "policy
// findings" are different outcomes, as for the firmware log.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/ima/ima_log.h"
#include "attest/ima/ima_policy.h"

namespace bulwark::attest::ima {

enum class ImaOutcome {
  kAffirming,       // replays to the quote, no findings
  kPolicyFindings,  // replays to the quote, findings listed
  kDoesNotReplay,   // no prefix of the appended entries reproduces the quoted PCRs
  kMalformed,       // an appended line does not parse
};
std::string_view imaOutcomeName(ImaOutcome o);  // "affirming", "policy-findings", ...

struct ImaAppraisal {
  ImaOutcome outcome = ImaOutcome::kMalformed;
  std::string detail;
  ImaState state;                    // advanced to the matching point (unchanged on failure)
  std::vector<ImaEntry> entries;     // the entries covered by the quote in this round
  std::vector<ImaFinding> findings;
};

// `previous`: the state saved after the last appraisal (empty for a fresh boot; its
// banks must be the quoted ones). `appended`: the list from previous.offset on.
// `quoted`: bank → PCR → value from a verified quote (PCR 10 normally).
ImaAppraisal appraiseIma(const ImaState& previous, std::string_view appended, const ImaPcrs& quoted,
                         const ImaPolicy& policy, const ImaParseOptions& options = {});

}  // namespace bulwark::attest::ima
