// EAT Attestation Results (draft-ietf-rats-ear; claims per its §"EAT Attestation
// Result" and §"EAR Appraisal Claims") as a JWT signed ES256 (RFC 7519, RFC 7515,
// RFC 7518 §3.4). Pure: claims in, compact JWS out; token + key + clock in,
// claims or a named rejection out. The layout Bulwark emits is documented in
// docs/ear.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attest/core/bytes.h"
#include "attest/ear/ar4si.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

// The EAR profile: the tag URI the draft pins for `eat_profile`.
inline constexpr std::string_view kEarProfile = "tag:github.com,2023:veraison/ear";
// Prefix of Bulwark's own (unregistered, draft §"Unregistered claims") claims.
inline constexpr std::string_view kBulwarkClaimPrefix = "bulwark.";
// eat_nonce size bounds in bytes (draft: 8..64; RFC 9711 §4.1).
inline constexpr std::size_t kMinNonce = 8;
inline constexpr std::size_t kMaxNonce = 64;
// Tokens larger than this are rejected before any parsing.
inline constexpr std::size_t kMaxEarBytes = 256 * 1024;

struct VerifierId {
  std::string developer;  // "https://github.com/bulwark" style identifier
  std::string build;      // "bulwark-verifier 0.1.0"
  bool operator==(const VerifierId&) const = default;
};

// Why a claim got its value: serialised under "bulwark.reasons" as
// {"<claim name or 'verifier'>": [{"code": ..., "detail": ...}, ...]}.
struct Reason {
  std::string claim;   // trustClaimName(...) or "verifier"
  std::string code;    // stable machine name, e.g. "pcr-mismatch"
  std::string detail;  // one human line, e.g. "PCR 23 expected ab.. got cd.."
  bool operator==(const Reason&) const = default;
};

// One EAR-appraisal (one submodule).
struct Appraisal {
  Tier status = Tier::kNone;
  TrustVector vector;
  std::string policy_id;  // ear.appraisal-policy-id; empty = omitted
  std::vector<Reason> reasons;
  bool operator==(const Appraisal&) const = default;
};

struct Ear {
  std::string profile{kEarProfile};
  std::int64_t iat = 0;  // issued at, seconds since the epoch
  std::int64_t exp = 0;  // freshness deadline, seconds since the epoch
  VerifierId verifier_id;
  std::optional<Bytes> nonce;  // eat_nonce, 8..64 bytes
  // Labelled submodules; Bulwark labels the host appraisal with the node name.
  std::map<std::string, Appraisal> submods;
  bool operator==(const Ear&) const = default;
};

// Claims-set JSON. Fails (kInvalidArgument) on what Bulwark must never sign:
// no submods, exp <= iat, a status inconsistent with its vector, values the
// draft does not define for a claim, a nonce outside 8..64 bytes.
Result<nlohmann::json> earToJson(const Ear& ear);
// Parses a claims-set; kMalformed on missing/ill-typed claims. Does not check
// the profile or times (verifyEar does).
Result<Ear> earFromJson(const nlohmann::json& claims);

// Compact JWS: base64url(header).base64url(claims).base64url(R||S) with header
// {"alg":"ES256","kid":<RFC 7638 thumbprint>,"typ":"JWT"}.
Result<std::string> signEar(const Ear& ear, EVP_PKEY* key);

enum class EarRejection : std::uint8_t {
  kMalformed,    // not a compact JWS / bad base64url / bad JSON / too large
  kAlgorithm,    // alg is not exactly "ES256" (none, HS256, ...) or crit present
  kKeyMismatch,  // header kid names a different key
  kSignature,    // signature does not verify with the key
  kClaims,       // signed, but the claims-set is not a valid EAR
  kProfile,      // eat_profile is not kEarProfile
  kExpired,      // now >= exp
  kNotYetValid,  // iat later than now (+ leeway)
};
std::string_view earRejectionName(EarRejection r);

struct EarRejected {
  EarRejection reason;
  std::string detail;
  std::string toString() const;  // "<name>: <detail>"
};

struct EarVerifyOptions {
  std::int64_t now = 0;               // injected clock, seconds since the epoch
  std::int64_t leeway_seconds = 0;    // tolerated clock skew for iat only
};

// Checks, in order: size and shape, alg == ES256 (header is untrusted: nothing
// else in it is acted on except kid), signature, claims, profile, exp, iat.
// Only a token passing all of them yields an Ear.
[[nodiscard]] std::expected<Ear, EarRejected> verifyEar(std::string_view token, EVP_PKEY* key,
                                                        const EarVerifyOptions& options);

}  // namespace bulwark::attest
