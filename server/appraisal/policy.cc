#include "server/appraisal/policy.h"

#include <fnmatch.h>

#include <array>

namespace bulwark::server {

namespace {
constexpr std::array<std::string_view, 4> kSeverityOrder = {"low", "medium", "high", "critical"};

bool componentBoundary(std::string_view ref, std::string_view prefix) {
  if (ref.size() < prefix.size() || ref.compare(0, prefix.size(), prefix) != 0) return false;
  if (ref.size() == prefix.size() || prefix.back() == '/') return true;
  char next = ref[prefix.size()];
  return next == '/' || next == ':' || next == '@';
}
}  // namespace

int severityRank(std::string_view severity) {
  for (std::size_t i = 0; i < kSeverityOrder.size(); ++i) {
    if (kSeverityOrder[i] == severity) return static_cast<int>(i);
  }
  return -1;
}

bool IsolationProfile::violates(std::string_view control, std::string_view severity) const {
  int rank = severityRank(severity);
  int threshold = severityRank(fail_severity);
  // An unknown severity is treated as critical: unknown must not mean harmless.
  if (rank < 0) rank = static_cast<int>(kSeverityOrder.size()) - 1;
  if (threshold < 0 || rank < threshold) return false;
  std::string c(control);
  for (const std::string& pattern : allow) {
    if (fnmatch(pattern.c_str(), c.c_str(), 0) == 0) return false;
  }
  return true;
}

std::string normalizeImageReference(std::string_view reference) {
  std::string ref(reference);
  auto slash = ref.find('/');
  if (slash == std::string::npos) return "docker.io/library/" + ref;
  std::string_view first(ref.data(), slash);
  bool registry = first.find('.') != std::string_view::npos ||
                  first.find(':') != std::string_view::npos || first == "localhost";
  if (!registry) return "docker.io/" + ref;
  if (first == "index.docker.io") return "docker.io" + ref.substr(slash);
  return ref;
}

PolicySnapshot::PolicySnapshot(std::int64_t version, const std::vector<ReferenceValue>& values,
                               std::vector<ImageRule> rules)
    : version_(version), rules_(std::move(rules)) {
  for (const ReferenceValue& v : values) {
    if (v.state == ReferenceState::kPending) continue;  // pending values vouch for nothing
    values_[{v.kind, v.subject}].push_back({v.sha256, v.state});
    if (v.state == ReferenceState::kApproved) ++approved_count_;
  }
}

ReferenceMatch PolicySnapshot::match(const MeasurementEntry& m) const {
  bool revoked = false;
  auto scan = [&](std::string_view kind) {
    auto it = values_.find(std::pair<std::string_view, std::string_view>(kind, m.subject));
    if (it == values_.end()) return false;
    for (const Entry& e : it->second) {
      if (e.sha256 != m.sha256) continue;
      if (e.state == ReferenceState::kApproved) return true;
      revoked = true;
    }
    return false;
  };
  if (scan(m.kind)) return ReferenceMatch::kApproved;
  // Package files (kind "file") vouch for a path whatever role the agent saw it in.
  if (isFileKind(m.kind) && scan(kPackageFileKind)) return ReferenceMatch::kApproved;
  return revoked ? ReferenceMatch::kRevokedOnly : ReferenceMatch::kUnknown;
}

bool isFileKind(std::string_view kind) {
  return kind == "host-file" || kind == "runtime-binary" || kind == "runtime-process";
}

ImageVerdict PolicySnapshot::image(std::string_view reference, std::string_view digest) const {
  std::string ref = normalizeImageReference(reference);
  if (!digest.empty()) {
    for (const ImageRule& r : rules_) {
      if (r.kind == ImageRuleKind::kDenyDigest && r.value == digest) {
        return {ImageDecision::kDenied, "deny rule #" + std::to_string(r.id) + " " + r.value};
      }
    }
  }
  for (const ImageRule& r : rules_) {
    if (r.kind == ImageRuleKind::kAllowDigest && !digest.empty() && r.value == digest) {
      return {ImageDecision::kAllowed, "allow rule #" + std::to_string(r.id)};
    }
    if (r.kind == ImageRuleKind::kAllowPrefix &&
        componentBoundary(ref, normalizeImageReference(r.value))) {
      return {ImageDecision::kAllowed, "allow prefix rule #" + std::to_string(r.id)};
    }
  }
  return {ImageDecision::kNotAllowed,
          "no image rule allows " + ref + (digest.empty() ? "" : " (" + std::string(digest) + ")")};
}

}  // namespace bulwark::server
