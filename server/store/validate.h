// Input checks run before any transaction starts, so malformed input of any size is
// refused with kInvalidArgument and never reaches the database (DESIGN §9).
#pragma once

#include "server/store/store_types.h"

namespace bulwark::server {

// Size limits; the verifier's HTTP body limits are below these.
inline constexpr std::size_t kMaxNodeName = 253;    // DNS subdomain, like Kubernetes
inline constexpr std::size_t kMaxKeyBlob = 4096;    // TPM2B_PUBLIC, AK name
inline constexpr std::size_t kMaxCertBlob = 16384;  // EK certificate DER
inline constexpr std::size_t kMaxReasonsJson = 1u << 20;
inline constexpr std::size_t kMaxTrustVectorJson = 64u << 10;
inline constexpr std::size_t kMaxEar = 64u << 10;
inline constexpr std::size_t kMaxEvidence = 16u << 20;
// A verified log copy (LogCopy): a node measuring ~500k files stays below it.
inline constexpr std::size_t kMaxLogCopy = 64u << 20;
inline constexpr std::size_t kMaxSubject = 4096;
inline constexpr std::size_t kMinNonce = 16;
inline constexpr std::size_t kMaxNonce = 64;

[[nodiscard]] Result<void> validateNodeName(std::string_view name);
[[nodiscard]] Result<void> validateGroup(std::string_view group);
[[nodiscard]] Result<void> validatePendingEnrollment(const PendingEnrollment& p);
[[nodiscard]] Result<void> validateEnrollmentId(std::string_view id);
[[nodiscard]] Result<void> validateClientCertSerial(std::string_view serial);
[[nodiscard]] Result<void> validateNonce(const NonceRecord& n);
[[nodiscard]] Result<void> validateAppraisal(const AppraisalRecord& a);
[[nodiscard]] Result<void> validateEvidence(ByteView evidence);
// "learned:NODE" | "package:NAME=VERSION" | "manual"
[[nodiscard]] Result<void> validateReferenceSource(std::string_view source);
[[nodiscard]] Result<void> validateReferenceValue(const ReferenceValue& v);
[[nodiscard]] Result<void> validateReferenceFilter(const ReferenceFilter& f);
[[nodiscard]] Result<void> validateActor(std::string_view who);
[[nodiscard]] Result<void> validateImageRule(const ImageRule& rule);
[[nodiscard]] Result<void> validateApiToken(const ApiToken& token);

}  // namespace bulwark::server
