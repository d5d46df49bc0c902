// The signed report bundle an auditor verifies offline (DESIGN §8, docs/reports.md
// "Bundle format"):
//
//   {"format":"bulwark.report-bundle","version":1,
//    "content":{"scope":"node"|"fleet","node":NAME|null,"generated_at_unix_ms":..,
//               "policy_version":..,"report":{node or fleet report, report_model.h},
//               "attestations":[{"node","appraisal_id","ear","ear_sha256",
//                                "evidence_sha256","policy_version"}]},
//    "signature":"<protected>..<signature>"}
//
// The file is the canonical JSON of that object (sorted keys, no whitespace, UTF-8)
// followed by one "\n". The signature is a JWS with detached payload (RFC 7515 §7.1 and
// Appendix F) by the verifier's EAR key: ES256 (RFC 7518 §3.4) over
// ASCII(BASE64URL(protected) || "." || BASE64URL(canonical JSON of "content")), protected
// header {"alg":"ES256","kid":<RFC 7638 thumbprint>,"typ":"bulwark.report-bundle"}.
// Requiring the canonical form means any changed byte of the file is rejected: either
// the signature no longer verifies or the file is no longer canonical.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::server::report {

inline constexpr std::string_view kBundleFormat = "bulwark.report-bundle";
inline constexpr int kBundleVersion = 1;
inline constexpr std::string_view kBundleJwsType = "bulwark.report-bundle";
// Bundles larger than this are refused before parsing.
inline constexpr std::size_t kMaxBundleBytes = 64u << 20;
// Deeper JSON nesting is refused while parsing (reports nest about 6 levels).
inline constexpr std::size_t kMaxBundleDepth = 64;

struct BundleAttestation {
  std::string node;
  std::int64_t appraisal_id = 0;
  std::string ear;        // compact JWS exactly as issued
  Bytes evidence_digest;  // SHA-256 of the evidence the EAR judged
  std::int64_t policy_version = 0;
};

// Sorted keys, no whitespace; invalid UTF-8 in strings replaced by U+FFFD.
std::string canonicalJson(const nlohmann::json& value);

// The bundle file bytes (canonical JSON + "\n"). `report` is a node or fleet report.
// kInvalidArgument when the key is not P-256 or the report has no known kind.
[[nodiscard]] Result<std::string> makeBundle(const nlohmann::json& report,
                                             const std::vector<BundleAttestation>& attestations,
                                             EVP_PKEY* key);

// Signs `content` as is (the last step of makeBundle; fuzzing and tests re-sign edited
// content with it). kInvalidArgument when the key is not P-256.
[[nodiscard]] Result<std::string> signBundleContent(const nlohmann::json& content, EVP_PKEY* key);

// Outcome of an offline check: ok() only when `reasons` is empty. Each reason starts
// with a stable name ("bundle-signature-invalid: ...", docs/reports.md lists them).
struct BundleCheck {
  std::vector<std::string> reasons;
  nlohmann::json content;  // the signed content (null when it could not be read)
  bool ok() const { return reasons.empty(); }
};

// Checks `file` against the verifier keys in `jwks` ({"keys":[JWK...]}): canonical form,
// format, detached JWS, then every EAR (signature with the JWKS key its kid names,
// claims) and its consistency with the report. Error (kInvalidArgument) only when the
// JWKS holds no usable P-256 key; anything wrong with the bundle is a reason.
[[nodiscard]] Result<BundleCheck> verifyBundle(std::string_view file, const nlohmann::json& jwks);

}  // namespace bulwark::server::report
