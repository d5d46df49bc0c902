#include "server/sched/verdict_snapshot.h"

#include <algorithm>
#include <cmath>

#include "server/sched/stored_reasons.h"

namespace bulwark::server::sched {

std::string_view trustName(Trust trust) {
  switch (trust) {
    case Trust::kTrusted:
      return "trusted";
    case Trust::kStale:
      return "stale";
    case Trust::kUntrusted:
      return "untrusted";
    case Trust::kEnrolling:
      return "enrolling";
    case Trust::kRevoked:
      return "revoked";
    case Trust::kUnknown:
      return "unknown";
    case Trust::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

namespace {
NodeVerdict verdictOf(const FleetEntry& e, const VerdictSnapshot* previous) {
  NodeVerdict v;
  v.stored = e.node.state;
  if (!e.latest) {
    if (v.stored == NodeState::kUntrusted) {
      v.untrusted_detail = "no attestation since enrollment";
    }
    return v;
  }
  v.appraisal_id = e.latest->id;
  v.appraised_at = e.latest->appraised_at;
  v.fresh_until = e.latest->fresh_until;
  const NodeVerdict* before = previous != nullptr ? previous->find(e.node.name) : nullptr;
  if (before != nullptr && before->appraisal_id == v.appraisal_id && before->stored == v.stored) {
    v.untrusted_detail = before->untrusted_detail;
    v.findings = before->findings;
    return v;
  }
  StoredReasons r = summarizeReasons(e.latest->reasons_json, e.latest->status);
  v.findings = r.findings;
  if (v.stored == NodeState::kUntrusted) {
    v.untrusted_detail = r.sentence.empty() ? "last appraisal failed" : std::move(r.sentence);
  }
  return v;
}

std::string seconds(Millis ms) { return std::to_string(std::max<Millis>(ms, 0) / 1000) + " s"; }
}  // namespace

std::shared_ptr<const VerdictSnapshot> VerdictSnapshot::build(const std::vector<FleetEntry>& fleet,
                                                              Millis loaded_at,
                                                              const VerdictSnapshot* previous) {
  auto snap = std::make_shared<VerdictSnapshot>();
  snap->loaded_at_ = loaded_at;
  snap->entries_.reserve(fleet.size());
  for (const FleetEntry& e : fleet)
    snap->entries_.emplace_back(e.node.name, verdictOf(e, previous));
  std::sort(snap->entries_.begin(), snap->entries_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  snap->index_.reserve(snap->entries_.size());
  for (std::size_t i = 0; i < snap->entries_.size(); ++i) {
    snap->index_.emplace(std::string_view(snap->entries_[i].first), i);
  }
  return snap;
}

const NodeVerdict* VerdictSnapshot::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

Decision decide(const NodeVerdict* v, Millis now) {
  if (v == nullptr) return {Trust::kUnknown, std::nullopt};
  switch (effectiveState(v->stored, v->fresh_until, now)) {
    case EffectiveState::kTrusted:
      return {Trust::kTrusted, v->fresh_until};
    case EffectiveState::kStale:
      return {Trust::kStale, v->fresh_until};
    case EffectiveState::kEnrolling:
      return {Trust::kEnrolling, v->fresh_until};
    case EffectiveState::kRevoked:
      return {Trust::kRevoked, v->fresh_until};
    case EffectiveState::kUntrusted:
      break;
  }
  return {Trust::kUntrusted, v->fresh_until};
}

Decision decide(const VerdictSnapshot* snapshot, std::string_view name, Millis now) {
  if (snapshot == nullptr) return {Trust::kUnavailable, std::nullopt};
  return decide(snapshot->find(name), now);
}

std::string trustDetail(const NodeVerdict* v, const Decision& d, Millis now) {
  switch (d.trust) {
    case Trust::kTrusted:
      return "last attestation " + seconds(now - v->appraised_at.value_or(now)) +
             " ago, fresh for " + seconds(d.fresh_until.value_or(now) - now);
    case Trust::kStale:
      if (v == nullptr || !v->appraised_at) return "no attestation";
      return "last attestation " + seconds(now - *v->appraised_at) + " ago";
    case Trust::kUntrusted:
      return v != nullptr && !v->untrusted_detail.empty() ? v->untrusted_detail
                                                          : "last appraisal failed";
    case Trust::kEnrolling:
      return "enrollment not approved";
    case Trust::kRevoked:
      return "";
    case Trust::kUnknown:
      return "never enrolled";
    case Trust::kUnavailable:
      return "verifier store unreachable";
  }
  return "";
}

std::string reasonText(const NodeVerdict* v, const Decision& d, Millis now) {
  std::string detail = trustDetail(v, d, now);
  switch (d.trust) {
    case Trust::kTrusted:
    case Trust::kStale:
      return "bulwark: " + std::string(trustName(d.trust)) + ", " + detail;
    case Trust::kUntrusted:
      return "bulwark: " + detail;
    case Trust::kUnknown:
      return "bulwark: unknown node (" + detail + ")";
    case Trust::kUnavailable:
      return "bulwark: verdicts unavailable (" + detail + ")";
    case Trust::kEnrolling:
    case Trust::kRevoked:
      break;
  }
  return "bulwark: " + std::string(trustName(d.trust)) +
         (detail.empty() ? "" : " (" + detail + ")");
}

std::string nodeMessage(std::string_view name, const NodeVerdict* v, const Decision& d,
                        Millis now) {
  std::string detail = trustDetail(v, d, now);
  std::string state =
      d.trust == Trust::kUnavailable ? "not verifiable now" : std::string(trustName(d.trust));
  return "bulwark: node " + std::string(name) + " is " + state +
         (detail.empty() ? "" : " (" + detail + ")");
}

std::int64_t trustScore(const NodeVerdict* v, const Decision& d, Millis now) {
  if (!d.trusted() || v == nullptr || !v->appraised_at || !v->fresh_until) return 0;
  double ttl = static_cast<double>(*v->fresh_until - *v->appraised_at);
  double left = static_cast<double>(*v->fresh_until - now);
  double fraction = ttl > 0 ? std::clamp(left / ttl, 0.0, 1.0) : 0.0;
  std::int64_t score = 5 + std::llround(5.0 * fraction) - std::min(v->findings, 4);
  return std::clamp<std::int64_t>(score, 1, 10);
}

}  // namespace bulwark::server::sched
