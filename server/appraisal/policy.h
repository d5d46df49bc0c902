// The appraisal policy at one policy version: approved reference values (several
// values per subject allowed), image rules and isolation profiles. Pure lookups;
// built from Store rows by the Appraiser and cached by policy version.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/appraisal/evidence.h"
#include "server/appraisal/package.h"
#include "server/store/store_types.h"

namespace bulwark::server {

// Per node group (DESIGN §5, docs/verifier.md "Isolation profiles"): a finding whose
// severity is at or above `fail_severity` violates the profile unless its control
// matches one of the `allow` fnmatch(3) patterns ("host-network", "seccomp-allows:*").
struct IsolationProfile {
  std::string name = "default";
  std::vector<std::string> allow;
  std::string fail_severity = "high";  // low | medium | high | critical
  // True when a finding (control, severity) violates this profile.
  bool violates(std::string_view control, std::string_view severity) const;
};

// 0 low .. 3 critical; -1 for anything else.
int severityRank(std::string_view severity);

enum class ReferenceMatch {
  kApproved,     // an approved value has this digest
  kRevokedOnly,  // only revoked values have this digest
  kUnknown,      // no approved value for this (kind, subject, digest)
};

enum class ImageDecision { kAllowed, kDenied, kNotAllowed };

struct ImageVerdict {
  ImageDecision decision = ImageDecision::kNotAllowed;
  std::string detail;  // which rule decided
};

// Docker reference normalisation: "nginx" → "docker.io/library/nginx",
// "team/app:1" → "docker.io/team/app:1"; references naming a registry (a first
// component with '.' or ':' or "localhost") are kept.
std::string normalizeImageReference(std::string_view reference);

// Measurement kinds whose subject is a file path (docs/api.md): package files
// (kPackageFileKind reference values) match them too.
bool isFileKind(std::string_view kind);

class PolicySnapshot {
 public:
  PolicySnapshot() = default;
  PolicySnapshot(std::int64_t version, const std::vector<ReferenceValue>& values,
                 std::vector<ImageRule> rules);

  std::int64_t version() const { return version_; }
  // Values of m.kind first, then package files for file kinds; approved wins over revoked.
  ReferenceMatch match(const MeasurementEntry& m) const;
  // `digest` is "sha256:<hex>" or empty (unknown digest: only prefix rules can allow).
  ImageVerdict image(std::string_view reference, std::string_view digest) const;
  std::size_t approvedCount() const { return approved_count_; }

 private:
  struct Entry {
    Bytes sha256;
    ReferenceState state;
  };
  // (kind, subject) keys looked up by string_view: no allocation per measurement.
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, std::string_view>(a.first, a.second) <
             std::pair<std::string_view, std::string_view>(b.first, b.second);
    }
  };
  std::int64_t version_ = 0;
  std::map<std::pair<std::string, std::string>, std::vector<Entry>, KeyLess> values_;
  std::vector<ImageRule> rules_;
  std::size_t approved_count_ = 0;
};

}  // namespace bulwark::server
