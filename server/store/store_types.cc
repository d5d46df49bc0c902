#include "server/store/store_types.h"

#include <array>
#include <utility>

namespace bulwark::server {

namespace {

template <typename E, std::size_t N>
std::string_view nameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "invalid";
}

template <typename E, std::size_t N>
std::optional<E> fromName(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

// These spellings are stored in the database (CHECK constraints in migrations.cc)
// and appear in the API; never rename one without a migration.
constexpr std::array<std::pair<NodeState, std::string_view>, 4> kNodeStates = {{
    {NodeState::kEnrolling, "enrolling"},
    {NodeState::kTrusted, "trusted"},
    {NodeState::kUntrusted, "untrusted"},
    {NodeState::kRevoked, "revoked"},
}};

constexpr std::array<std::pair<EffectiveState, std::string_view>, 5> kEffectiveStates = {{
    {EffectiveState::kEnrolling, "enrolling"},
    {EffectiveState::kTrusted, "trusted"},
    {EffectiveState::kUntrusted, "untrusted"},
    {EffectiveState::kStale, "stale"},
    {EffectiveState::kRevoked, "revoked"},
}};

constexpr std::array<std::pair<NonceRejection, std::string_view>, 4> kNonceRejections = {{
    {NonceRejection::kUnknown, "nonce_unknown"},
    {NonceRejection::kForeign, "nonce_foreign"},
    {NonceRejection::kExpired, "nonce_expired"},
    {NonceRejection::kReplayed, "nonce_replayed"},
}};

constexpr std::array<std::pair<AppraisalStatus, std::string_view>, 4> kStatuses = {{
    {AppraisalStatus::kAffirming, "affirming"},
    {AppraisalStatus::kWarning, "warning"},
    {AppraisalStatus::kContraindicated, "contraindicated"},
    {AppraisalStatus::kNone, "none"},
}};

constexpr std::array<std::pair<ReferenceState, std::string_view>, 3> kReferenceStates = {{
    {ReferenceState::kPending, "pending"},
    {ReferenceState::kApproved, "approved"},
    {ReferenceState::kRevoked, "revoked"},
}};

constexpr std::array<std::pair<ImageRuleKind, std::string_view>, 3> kImageRuleKinds = {{
    {ImageRuleKind::kAllowDigest, "allow_digest"},
    {ImageRuleKind::kAllowPrefix, "allow_prefix"},
    {ImageRuleKind::kDenyDigest, "deny_digest"},
}};

constexpr std::array<std::pair<ApiRole, std::string_view>, 4> kRoles = {{
    {ApiRole::kAgent, "agent"},
    {ApiRole::kScheduler, "scheduler"},
    {ApiRole::kAuditor, "auditor"},
    {ApiRole::kAdmin, "admin"},
}};

}  // namespace

std::string_view nodeStateName(NodeState s) { return nameOf(kNodeStates, s); }
std::optional<NodeState> nodeStateFromName(std::string_view n) { return fromName(kNodeStates, n); }
std::string_view effectiveStateName(EffectiveState s) { return nameOf(kEffectiveStates, s); }
std::string_view nonceRejectionName(NonceRejection r) { return nameOf(kNonceRejections, r); }
std::string_view appraisalStatusName(AppraisalStatus s) { return nameOf(kStatuses, s); }
std::optional<AppraisalStatus> appraisalStatusFromName(std::string_view n) {
  return fromName(kStatuses, n);
}
std::string_view referenceStateName(ReferenceState s) { return nameOf(kReferenceStates, s); }
std::optional<ReferenceState> referenceStateFromName(std::string_view n) {
  return fromName(kReferenceStates, n);
}
std::string_view imageRuleKindName(ImageRuleKind k) { return nameOf(kImageRuleKinds, k); }
std::optional<ImageRuleKind> imageRuleKindFromName(std::string_view n) {
  return fromName(kImageRuleKinds, n);
}
std::string_view apiRoleName(ApiRole r) { return nameOf(kRoles, r); }
std::optional<ApiRole> apiRoleFromName(std::string_view n) { return fromName(kRoles, n); }

EffectiveState effectiveState(NodeState stored, std::optional<Millis> fresh_until, Millis now) {
  switch (stored) {
    case NodeState::kEnrolling:
      return EffectiveState::kEnrolling;
    case NodeState::kRevoked:
      return EffectiveState::kRevoked;
    case NodeState::kUntrusted:
      return EffectiveState::kUntrusted;
    case NodeState::kTrusted:
      // Fail closed (DESIGN §3 Gating): no deadline or a passed one is stale.
      return fresh_until && now < *fresh_until ? EffectiveState::kTrusted : EffectiveState::kStale;
  }
  return EffectiveState::kUntrusted;
}

}  // namespace bulwark::server
