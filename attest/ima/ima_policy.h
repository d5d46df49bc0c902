// IMA runtime policy: an allowlist (path → accepted file digests) and exclude globs.
// Pure. The result lists every entry that is not acceptable and why; an empty list
// means the measurement list complies.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/error.h"
#include "attest/ima/ima_entry.h"

namespace bulwark::attest::ima {

struct ImaPolicy {
  // Path → accepted digests as "alg:hex" (a bare hex digest gets its algorithm from
  // its length: 40 sha1, 64 sha256, 96 sha384, 128 sha512).
  std::map<std::string, std::set<std::string>> allowlist;
  // fnmatch(3) globs without FNM_PATHNAME, so "/var/log/*" covers the whole subtree.
  std::vector<std::string> excludes;
  // ToMToU / open-writers violations are findings unless this is set.
  bool allow_violations = false;
};

enum class ImaFindingKind {
  kUnknownFile,           // not in the allowlist and not excluded
  kDigestMismatch,        // in the allowlist with other digests
  kTemplateHashMismatch,  // logged template hash != H(template data): the line lies
  kMeasurementViolation,  // the kernel logged a violation
};
std::string_view imaFindingKindName(ImaFindingKind kind);  // "unknown-file", ...

struct ImaFinding {
  std::size_t entry_index = 0;
  std::string path;
  ImaFindingKind kind = ImaFindingKind::kUnknownFile;
  std::string detail;
};

// Normalises digests ("SHA256:AB.." → "sha256:ab..", bare hex → "alg:hex").
// Errors: kInvalidArgument naming the path with a digest that is not hex or has an
// unknown length.
[[nodiscard]] Result<ImaPolicy> normaliseImaPolicy(ImaPolicy policy);

// {"allowlist": {"/usr/bin/ls": ["sha256:..."]}, "excludes": ["/tmp/*"],
//  "allow_violations": false}. Unknown keys are errors. Returns a normalised policy.
[[nodiscard]] Result<ImaPolicy> parseImaPolicyJson(std::string_view json);

// Evaluates entries against a normalised policy. Template-hash mismatches are
// reported for every entry (even excluded ones): such a line is not evidence.
std::vector<ImaFinding> evaluateImaPolicy(std::span<const ImaEntry> entries, const ImaPolicy& policy);

}  // namespace bulwark::attest::ima
