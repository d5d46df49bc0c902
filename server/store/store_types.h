// Records the verifier persists (docs/storage.md has the schema and the reasoning).
//
// Every timestamp is int64 unix milliseconds supplied by the caller: the store has
// no clock, so tests and replicas decide what "now" is. Byte fields are raw bytes
// (DER, TPM2B marshalled structures, digests), never hex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"

namespace bulwark::server {

using Millis = std::int64_t;

// Stored node states. "stale" is deliberately absent: it depends on the time of the
// question (DESIGN §3 Gating) and is computed by effectiveState() at query time.
enum class NodeState { kEnrolling, kTrusted, kUntrusted, kRevoked };
std::string_view nodeStateName(NodeState state);
std::optional<NodeState> nodeStateFromName(std::string_view name);

struct NodeRecord {
  std::string name;
  NodeState state = NodeState::kEnrolling;
  std::string group;  // selects the isolation profile; "" = default group
  Bytes ek_cert;      // DER; empty when the EK came without a certificate
  Bytes ek_public;    // TPM2B_PUBLIC of the EK
  Bytes ak_public;    // TPM2B_PUBLIC of the activated AK
  Bytes ak_name;      // TPM name of the AK (nameAlg || digest)
  Millis enrolled_at = 0;
  std::optional<Millis> approved_at;
  std::string client_cert_serial;  // hex serial of the mTLS certificate we issued; "" = none
  // Last TPMS_CLOCK_INFO seen in an accepted quote (TPM 2.0 Part 2 §10.11.1), for
  // monotonicity and reboot detection. Empty until the first appraisal.
  std::optional<std::int64_t> reset_count;
  std::optional<std::int64_t> restart_count;
  std::optional<std::int64_t> clock;
  Millis updated_at = 0;
};

// Enrollment waiting for the agent's TPM2_ActivateCredential proof (DESIGN §3 step 4).
// Holds the proposed keys so a re-enrolling node keeps its old AK until it proves the new one.
struct PendingEnrollment {
  std::string id;  // opaque, chosen by the caller (random, URL-safe)
  std::string node;
  std::string group;
  Bytes ek_cert;
  Bytes ek_public;
  Bytes ak_public;
  Bytes ak_name;
  Bytes secret_hash;  // SHA-256 of the credential secret; never the secret
  Millis created_at = 0;
  Millis expires_at = 0;
  std::int64_t attempts = 0;
};

struct CompleteEnrollment {
  std::string client_cert_serial;
  bool approve = false;  // auto-approval: node becomes kUntrusted (awaiting evidence)
  Millis now = 0;
};

struct NonceRecord {
  Bytes value;  // 16..64 random bytes
  std::string node;
  Millis issued_at = 0;
  Millis expires_at = 0;
  std::optional<Millis> used_at;
};

// Why a nonce was not accepted: each maps to a named appraisal reason.
enum class NonceRejection { kUnknown, kForeign, kExpired, kReplayed };
std::string_view nonceRejectionName(NonceRejection rejection);

// AR4SI / EAR overall status (draft-ietf-rats-ear §3.2 "ear.status").
enum class AppraisalStatus { kAffirming, kWarning, kContraindicated, kNone };
std::string_view appraisalStatusName(AppraisalStatus status);
std::optional<AppraisalStatus> appraisalStatusFromName(std::string_view name);

struct AppraisalRecord {
  std::int64_t id = 0;  // assigned by the store
  std::string node;
  Millis appraised_at = 0;
  AppraisalStatus status = AppraisalStatus::kNone;
  std::string reasons_json = "[]";       // JSON array of named reasons
  std::string trust_vector_json = "{}";  // JSON object, AR4SI claim → value
  std::string ear;                       // compact JWS (EAR JWT) exactly as issued
  Bytes evidence_digest;                 // SHA-256 of the Evidence bytes appraised
  Millis fresh_until = 0;                // freshness deadline (= EAR exp)
  std::optional<std::int64_t> reset_count;
  std::optional<std::int64_t> restart_count;
  std::optional<std::int64_t> clock;
  std::int64_t policy_version = 0;
};

// The latest appraisal without the bulky EAR/trust vector, for fleet listings.
struct AppraisalSummary {
  std::int64_t id = 0;
  Millis appraised_at = 0;
  AppraisalStatus status = AppraisalStatus::kNone;
  std::string reasons_json;
  Millis fresh_until = 0;
  std::int64_t policy_version = 0;
};

// A node without its key material, for fleet listings (keys are fetched per node).
struct NodeSummary {
  std::string name;
  NodeState state = NodeState::kEnrolling;
  std::string group;
  Millis enrolled_at = 0;
  std::optional<Millis> approved_at;
  Millis updated_at = 0;
};

struct FleetEntry {
  NodeSummary node;
  std::optional<AppraisalSummary> latest;
};

// What a relying party sees (DESIGN §3 Gating). kStale is never stored.
enum class EffectiveState { kEnrolling, kTrusted, kUntrusted, kStale, kRevoked };
std::string_view effectiveStateName(EffectiveState state);
// trusted only while the stored state is trusted AND the latest verdict is fresh at `now`.
EffectiveState effectiveState(NodeState stored, std::optional<Millis> fresh_until, Millis now);

struct HistoryQuery {
  std::size_t limit = 100;       // clamped to [1, kMaxHistoryLimit]
  std::optional<Millis> since;   // appraised_at >= since
  std::optional<Millis> before;  // appraised_at < before (paging backwards)
};
inline constexpr std::size_t kMaxHistoryLimit = 10000;

// The verifier's verified copy of a node's measurement log (docs/api.md "Incremental
// logs"): the first `bytes` bytes of the log, replayed against a quote. One per node;
// replaced as the log grows, dropped on re-enrollment.
struct LogCopy {
  std::string node;
  std::string source;            // EventLog.source
  std::int64_t reset_count = 0;  // TPM resetCount of the quote that verified it (the boot)
  std::int64_t entries = 0;      // records
  std::int64_t bytes = 0;        // length of the log bytes (content.size() when loaded)
  Bytes sha256;                  // SHA-256 of the log bytes
  std::string bank;              // hash algorithm name of `chain`
  std::string chain;             // PCR values after these records: "15=<hex>[;16=<hex>]"
  std::string content;           // the log bytes; empty when listed without content
  Millis updated_at = 0;
};

struct StoredEvidence {
  std::string node;
  Millis received_at = 0;
  Bytes digest;  // SHA-256 of bytes
  Bytes bytes;   // serialized bulwark.v1.Evidence
};

enum class ReferenceState { kPending, kApproved, kRevoked };
std::string_view referenceStateName(ReferenceState state);
std::optional<ReferenceState> referenceStateFromName(std::string_view name);

struct ReferenceValue {
  std::int64_t id = 0;  // assigned by the store
  std::string kind;     // e.g. "file", "runtime", "kernel" ([a-z0-9_.-]+)
  std::string subject;  // path or name the digest is for
  Bytes sha256;         // 32 bytes
  std::string source;   // "learned:NODE" | "package:NAME=VERSION" | "manual"
  ReferenceState state = ReferenceState::kPending;
  Millis created_at = 0;
  std::string approved_by;  // "" until approved
  std::optional<Millis> approved_at;
};

// Filter for listing / approving / revoking reference values; empty fields match all.
struct ReferenceFilter {
  std::vector<std::int64_t> ids;
  std::optional<std::string> kind;
  std::optional<std::string> subject;
  std::optional<std::string> source;
  std::optional<ReferenceState> state;
};

enum class ImageRuleKind { kAllowDigest, kAllowPrefix, kDenyDigest };
std::string_view imageRuleKindName(ImageRuleKind kind);
std::optional<ImageRuleKind> imageRuleKindFromName(std::string_view name);

struct ImageRule {
  std::int64_t id = 0;
  ImageRuleKind kind = ImageRuleKind::kAllowDigest;
  std::string value;  // "sha256:<64 hex>" or "registry/repository" prefix
  Millis created_at = 0;
  std::string created_by;
};

// Result of a policy mutation: how many rows changed and the policy version after it.
// version is unchanged when nothing changed.
struct PolicyChange {
  std::int64_t changed = 0;
  std::int64_t version = 0;
};

enum class ApiRole { kAgent, kScheduler, kAuditor, kAdmin };
std::string_view apiRoleName(ApiRole role);
std::optional<ApiRole> apiRoleFromName(std::string_view name);

struct ApiToken {
  std::string name;
  ApiRole role = ApiRole::kAuditor;
  Bytes token_hash;  // SHA-256 of the bearer token; never the token
  Millis created_at = 0;
};

}  // namespace bulwark::server
