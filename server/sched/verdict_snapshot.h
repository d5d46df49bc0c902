// What relying parties ask: is node X trusted *now*? (DESIGN §3 Gating, §7).
//
// A VerdictSnapshot is an immutable copy of every node's stored state and latest verdict
// (one Store::fleet() call), indexed by name, so a 5,000-node scheduler request costs
// hash lookups instead of queries. The snapshot never decides freshness: decide() takes
// the time of the question, so a verdict whose deadline passed after the snapshot was
// taken is already "stale" (fail closed). How old a snapshot may be is VerdictCache's job.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/store/store_types.h"

namespace bulwark::server::sched {

// Effective trust of a node for a relying party. kUnknown: no such node (never enrolled
// or deleted). kUnavailable: no snapshot could be read (store down) — also a refusal.
enum class Trust { kTrusted, kStale, kUntrusted, kEnrolling, kRevoked, kUnknown, kUnavailable };
std::string_view trustName(Trust trust);

// One node as the snapshot keeps it; the human reason of a stored untrusted verdict is
// rendered once, when the snapshot is built.
struct NodeVerdict {
  NodeState stored = NodeState::kEnrolling;
  std::int64_t appraisal_id = 0;  // 0: no verdict
  std::optional<Millis> appraised_at;
  std::optional<Millis> fresh_until;
  std::string untrusted_detail;  // why a stored-untrusted node is untrusted; else ""
  int findings = 0;              // isolation findings within profile (not violations)
};

struct Decision {
  Trust trust = Trust::kUnknown;
  std::optional<Millis> fresh_until;
  bool trusted() const { return trust == Trust::kTrusted; }
};

class VerdictSnapshot {
 public:
  // Builds the index from Store::fleet() rows. `loaded_at` is the time the read began.
  // Reasons of verdicts already in `previous` (same appraisal id) are reused, not re-parsed.
  static std::shared_ptr<const VerdictSnapshot> build(const std::vector<FleetEntry>& fleet,
                                                      Millis loaded_at,
                                                      const VerdictSnapshot* previous = nullptr);

  // nullptr when the node is not in the snapshot.
  const NodeVerdict* find(std::string_view name) const;
  Millis loadedAt() const { return loaded_at_; }
  std::size_t size() const { return entries_.size(); }
  // Node names in byte order (for listings).
  const std::vector<std::pair<std::string, NodeVerdict>>& entries() const { return entries_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Millis loaded_at_ = 0;
  std::vector<std::pair<std::string, NodeVerdict>> entries_;  // sorted by name
  std::unordered_map<std::string_view, std::size_t, Hash, std::equal_to<>> index_;
};

// Trust of `name` at `now`. `snapshot` may be nullptr (unavailable → refused).
Decision decide(const VerdictSnapshot* snapshot, std::string_view name, Millis now);
// Same for an entry already looked up (nullptr = unknown node).
Decision decide(const NodeVerdict* verdict, Millis now);

// What a person reads (docs/scheduling.md "Reasons"). Detail: the why without the state
// ("last attestation 95 s ago", "runtime binary /usr/bin/runc not in reference values",
// "never enrolled"); "" when the state says it all (revoked).
std::string trustDetail(const NodeVerdict* verdict, const Decision& decision, Millis now);
// Extender/REST form: "bulwark: stale, last attestation 95 s ago",
// "bulwark: runtime binary /usr/bin/runc not in reference values",
// "bulwark: unknown node (never enrolled)", "bulwark: revoked".
std::string reasonText(const NodeVerdict* verdict, const Decision& decision, Millis now);
// Admission form: "bulwark: node worker-3 is stale (last attestation 95 s ago)".
std::string nodeMessage(std::string_view name, const NodeVerdict* verdict, const Decision& decision,
                        Millis now);

// Prioritize score 0..10 (k8s MaxExtenderPriority = 10; docs/scheduling.md "Scores"):
// 0 unless trusted at `now`; trusted: 5 + round(5 * remaining/ttl) minus one per
// isolation finding (at most 4), never below 1.
std::int64_t trustScore(const NodeVerdict* verdict, const Decision& decision, Millis now);

}  // namespace bulwark::server::sched
