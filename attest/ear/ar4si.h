// AR4SI trustworthiness claims and tiers (draft-ietf-rats-ar4si §2.3: the
// trustworthiness vector; "Enumeration Encoding" and "Specific Claims").
// Pure values: the claim names as JSON labels, the tier of a signed 8-bit
// claim value, and the standard code points per claim.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "attest/core/error.h"

namespace bulwark::attest {

// The eight AR4SI trustworthiness claims, in the draft's CBOR key order (0..7).
enum class TrustClaim : std::uint8_t {
  kInstanceIdentity,
  kConfiguration,
  kExecutables,
  kFileSystem,
  kHardware,
  kRuntimeOpaque,
  kStorageOpaque,
  kSourcedData,
};
inline constexpr std::array<TrustClaim, 8> kAllTrustClaims = {
    TrustClaim::kInstanceIdentity, TrustClaim::kConfiguration, TrustClaim::kExecutables,
    TrustClaim::kFileSystem,       TrustClaim::kHardware,      TrustClaim::kRuntimeOpaque,
    TrustClaim::kStorageOpaque,    TrustClaim::kSourcedData};

// "instance-identity", "configuration", ... (JSON labels, ar4si.cddl).
std::string_view trustClaimName(TrustClaim claim);
std::optional<TrustClaim> trustClaimFromName(std::string_view name);

// Trustworthiness tiers. JSON serialisation of ear.status uses the names.
enum class Tier : std::uint8_t { kNone, kAffirming, kWarning, kContraindicated };
std::string_view tierName(Tier tier);
std::optional<Tier> tierFromName(std::string_view name);

// Tier of a claim value (AR4SI "Enumeration Encoding"):
//   none 0, 1, -1; affirming 2..31 and -2..-32; warning 32..95 and -33..-96;
//   contraindicated 96..127 and -97..-128.
Tier tierOf(std::int8_t value);

// Standard code points. Values common to every claim, then per claim.
namespace ar4si {
inline constexpr std::int8_t kNoClaim = 0;
inline constexpr std::int8_t kUnexpectedEvidence = 1;
inline constexpr std::int8_t kVerifierMalfunction = -1;
inline constexpr std::int8_t kCryptoValidationFailed = 99;

namespace instance_identity {
inline constexpr std::int8_t kTrustworthyInstance = 2;
inline constexpr std::int8_t kUntrustworthyInstance = 96;
inline constexpr std::int8_t kUnrecognizedInstance = 97;
}  // namespace instance_identity
namespace configuration {
inline constexpr std::int8_t kApprovedConfig = 2;
inline constexpr std::int8_t kNoConfigVulns = 3;
inline constexpr std::int8_t kUnsafeConfig = 32;
inline constexpr std::int8_t kUnavailConfigElems = 36;
inline constexpr std::int8_t kUnsupportableConfig = 96;
}  // namespace configuration
namespace executables {
inline constexpr std::int8_t kApprovedRuntime = 2;
inline constexpr std::int8_t kApprovedBoot = 3;
inline constexpr std::int8_t kUnsafeRuntime = 32;
inline constexpr std::int8_t kUnrecognizedRuntime = 33;
inline constexpr std::int8_t kContraindicatedRuntime = 96;
}  // namespace executables
namespace file_system {
inline constexpr std::int8_t kApprovedFiles = 2;
inline constexpr std::int8_t kUnrecognizedFiles = 32;
inline constexpr std::int8_t kContraindicatedFiles = 96;
}  // namespace file_system
namespace hardware {
inline constexpr std::int8_t kGenuineHardware = 2;
inline constexpr std::int8_t kUnsafeHardware = 32;
inline constexpr std::int8_t kContraindicatedHardware = 96;
inline constexpr std::int8_t kUnrecognizedHardware = 97;
}  // namespace hardware
namespace runtime_opaque {
inline constexpr std::int8_t kEncryptedMemoryRuntime = 2;
inline constexpr std::int8_t kIsolatedMemoryRuntime = 32;
inline constexpr std::int8_t kVisibleMemoryRuntime = 96;
}  // namespace runtime_opaque
namespace storage_opaque {
inline constexpr std::int8_t kHwKeysEncryptedSecrets = 2;
inline constexpr std::int8_t kSwKeysEncryptedSecrets = 32;
inline constexpr std::int8_t kUnencryptedSecrets = 96;
}  // namespace storage_opaque
namespace sourced_data {
inline constexpr std::int8_t kTrustedSources = 2;
inline constexpr std::int8_t kUntrustedSources = 32;
inline constexpr std::int8_t kContraindicatedSources = 96;
}  // namespace sourced_data
}  // namespace ar4si

// True for the common values (0, 1, -1, 99), for the claim's own standard
// values, and for any negative (implementation-specific) value. Positive values
// the draft does not define for that claim are false: Bulwark never emits them.
bool isDefinedValue(TrustClaim claim, std::int8_t value);

// A trustworthiness vector: each claim either absent or one value.
class TrustVector {
 public:
  void set(TrustClaim claim, std::int8_t value) { values_[index(claim)] = value; }
  void clear(TrustClaim claim) { values_[index(claim)].reset(); }
  std::optional<std::int8_t> get(TrustClaim claim) const { return values_[index(claim)]; }
  bool empty() const;

  // Contraindicated if any claim is, else warning if any, else affirming if any,
  // else none (absent and tier-none claims make no assertion).
  Tier worstTier() const;

  // {"instance-identity": 2, ...}; absent claims omitted.
  nlohmann::json toJson() const;
  // Rejects non-objects, unknown claim names and values outside -128..127.
  static Result<TrustVector> fromJson(const nlohmann::json& j);

  bool operator==(const TrustVector&) const = default;

 private:
  static std::size_t index(TrustClaim c) { return static_cast<std::size_t>(c); }
  std::array<std::optional<std::int8_t>, kAllTrustClaims.size()> values_{};
};

// ear.status "MUST be set to a tier of no higher trust than the tier
// corresponding to the worst trustworthiness claim" (draft-ietf-rats-ear
// §"EAR Appraisal Claims"): affirming needs an all-affirming vector, warning
// needs no contraindicated claim; none and contraindicated claim no trust.
bool statusConsistent(Tier status, Tier worst);

}  // namespace bulwark::attest
