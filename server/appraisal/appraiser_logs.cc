// Appraiser: incremental logs (log_copies.h, docs/api.md "Incremental logs"). Which
// copies a node has (cached per replica, read from the Store on a miss or a mismatch),
// whether evidence resumes from them with the policy memo or is expanded into whole
// logs, and which copies an appraisal leaves behind.
#include <algorithm>

#include "attest/cel/bulwark_content.h"
#include "server/appraisal/appraiser.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {
// Bounds the per-replica cache (a few hundred bytes per node plus its memo).
constexpr std::size_t kMaxCachedNodes = 200000;

const CopyState* findCopy(const std::vector<CopyState>& copies, const std::string& source) {
  for (const CopyState& c : copies) {
    if (c.source == source) return &c;
  }
  return nullptr;
}

bool bySource(const CopyState& a, const CopyState& b) { return a.source < b.source; }

// Bulwark records in a log the verifier keeps no copy of: their entries are not behind
// any copy, so a memo keyed by the copies would not cover them.
bool uncoveredEntries(const ParsedEvidence& ev) {
  for (const ParsedLog& l : ev.logs) {
    if (!l.cel || keepsCopy(l)) continue;
    for (const attest::CelRecord& r : l.cel->records) {
      if (r.content_type == attest::kBulwarkContentType) return true;
    }
  }
  return false;
}
}  // namespace

void Appraiser::forgetLogs(const std::string& node) {
  std::lock_guard lock(mu_);
  node_logs_.erase(node);
}

// A cached entry is used only by the enrollment it was made for: a re-enrolled node
// starts again from the Store, which dropped its copies.
ApiResult<Appraiser::NodeLogsPtr> Appraiser::nodeLogs(const NodeRecord& node, bool reload) {
  if (!reload) {
    std::lock_guard lock(mu_);
    if (auto it = node_logs_.find(node.name);
        it != node_logs_.end() && it->second->ak_name == node.ak_name &&
        it->second->enrolled_at == node.enrolled_at)
      return it->second;
  }
  auto rows = store_.logCopies(node.name, false);
  if (!rows) return std::unexpected(fromStoreError(rows.error(), "node-unknown"));
  auto fresh = std::make_shared<NodeLogs>();
  fresh->ak_name = node.ak_name;
  fresh->enrolled_at = node.enrolled_at;
  for (const LogCopy& row : *rows) {
    auto state = copyStateOf(row);
    if (!state)
      return apiFail(500, "internal-error", "node " + node.name + ": " + state.error().message());
    fresh->copies.push_back(std::move(*state));
  }
  std::lock_guard lock(mu_);
  if (node_logs_.size() >= kMaxCachedNodes) node_logs_.clear();
  node_logs_[node.name] = fresh;
  return NodeLogsPtr(fresh);
}

// Whether every incremental log of `ev` continues a copy of this node exactly; fills
// plan.resume. Another replica may have moved a copy on: a mismatch reloads once.
ApiResult<bool> Appraiser::resumable(const NodeRecord& node, const ParsedEvidence& ev,
                                     LogPlan& plan) {
  HashAlg bank = options_.selection.banks()[0].alg;
  for (bool reload : {false, true}) {
    auto known = nodeLogs(node, reload);
    if (!known) return std::unexpected(known.error());
    plan.known = *known;
    plan.resume.clear();
    bool all = true;
    for (const ParsedLog& l : ev.logs) {
      if (!l.incremental()) continue;
      const CopyState* c = findCopy(plan.known->copies, l.source);
      if (c == nullptr || c->offset != l.offset || c->entries != l.entries_before || c->bank != bank) {
        all = false;
        break;
      }
      plan.resume.emplace(l.index, *c);
    }
    if (all) return true;
  }
  return false;
}

// Runs before the nonce is consumed, so a log-prefix-unknown answer costs the agent
// nothing but a resend of the whole log with the same nonce.
ApiResult<Appraiser::LogPlan> Appraiser::prepareLogs(
    const NodeRecord& node, ParsedEvidence& ev, std::int64_t policy_version,
    const std::vector<MeasurementAcknowledgment>& acks) {
  LogPlan plan;
  bool keeps = std::any_of(ev.logs.begin(), ev.logs.end(), keepsCopy);
  if (!keeps) return plan;
  if (!ev.incremental()) {
    auto known = nodeLogs(node, false);  // to tell an unchanged log from a new one
    if (!known) return std::unexpected(known.error());
    plan.known = *known;
    return plan;
  }
  auto ok = resumable(node, ev, plan);
  if (!ok) return std::unexpected(ok.error());
  if (*ok) {
    bool nothing_new = ev.logged.empty();
    for (const ParsedLog& l : ev.logs) {
      if (keepsCopy(l) && !appendsNothing(l)) nothing_new = false;
    }
    std::vector<CopyState> states;
    for (const auto& [index, c] : plan.resume) states.push_back(c);
    std::sort(states.begin(), states.end(), bySource);
    if (nothing_new && plan.known->memo &&
        plan.known->memo->key == memoKey(node.name, states, policy_version, acks, ev.measurements)) {
      plan.memo = plan.known->memo.get();  // plan.known keeps it alive
      ++resumed_;
      return plan;
    }
  }
  // Something was appended, the policy inputs moved, or this replica lacks the copy:
  // appraise the whole logs (the Store has the copies' bytes).
  plan.resume.clear();
  auto copies = store_.logCopies(node.name, true);
  if (!copies) return std::unexpected(fromStoreError(copies.error(), "node-unknown"));
  if (auto r = expandEvidence(ev, *copies); !r) {
    forgetLogs(node.name);
    return apiFail(409, "log-prefix-unknown",
                   r.error().message() + " (the nonce was not used: send the whole log with it)");
  }
  ++expanded_;
  return plan;
}

void Appraiser::concludeLogs(const NodeRecord& node, const ParsedEvidence& ev,
                             const PipelineResult& result, std::int64_t policy_version,
                             const std::vector<MeasurementAcknowledgment>& acks, LogPlan& plan) {
  // Nothing verified: no copy moves, no cursor is handed out (the agent sends whole logs).
  if (!result.logs_passed || !std::any_of(ev.logs.begin(), ev.logs.end(), keepsCopy)) return;
  HashAlg bank = options_.selection.banks()[0].alg;
  std::int64_t reset = result.counters ? result.counters->reset_count : 0;
  auto after = std::make_shared<NodeLogs>();
  after->ak_name = node.ak_name;
  after->enrolled_at = node.enrolled_at;
  for (const ParsedLog& l : ev.logs) {
    // One copy per node (the agent's measurement log; the Store keeps no other), so an
    // agent cannot grow the verifier's storage by naming new logs.
    if (!keepsCopy(l) || !after->copies.empty()) continue;
    if (l.incremental()) {  // resumed: the copy is unchanged
      after->copies.push_back(plan.resume.at(l.index));
      continue;
    }
    std::string_view bytes = completeBytes(ev, l);
    auto chain = result.log_chains.find(l.index);
    // Too large to keep, or it did not start from reset PCRs (checkLogs): shipped whole.
    if (bytes.size() > kMaxLogCopy || chain == result.log_chains.end()) continue;
    CopyState state{l.source, bytes.size(), l.cel->records.size(), sha256(asBytes(bytes)), reset, bank,
                    chain->second};
    const CopyState* old = plan.known ? findCopy(plan.known->copies, l.source) : nullptr;
    if (old == nullptr || old->offset != state.offset || old->sha256 != state.sha256) {
      plan.writes.push_back(LogCopy{node.name, l.source, reset,
                                    static_cast<std::int64_t>(state.entries),
                                    static_cast<std::int64_t>(state.offset), state.sha256,
                                    std::string(hashAlgName(bank)), formatChain(state.chain),
                                    std::string(bytes), 0});
    }
    after->copies.push_back(std::move(state));
  }
  std::sort(after->copies.begin(), after->copies.end(), bySource);
  if (plan.memo != nullptr) {
    after->memo = plan.known->memo;
  } else if (result.memo && !uncoveredEntries(ev)) {
    auto memo = std::make_shared<LogPolicyMemo>(*result.memo);
    memo->key = memoKey(node.name, after->copies, policy_version, acks, ev.measurements);
    after->memo = std::move(memo);
  }
  plan.cursors = after->copies;
  plan.after = std::move(after);
}

std::string Appraiser::metricsText() const {
  return "# HELP bulwark_appraisals_resumed_total Appraisals of incremental evidence resumed from "
         "the verifier's log copy (steady state: nothing appended, policy unchanged).\n"
         "# TYPE bulwark_appraisals_resumed_total counter\n"
         "bulwark_appraisals_resumed_total " +
         std::to_string(resumed_.load()) +
         "\n# HELP bulwark_appraisals_expanded_total Appraisals of incremental evidence expanded "
         "into whole logs (records appended, policy or acknowledgments changed, copy not cached).\n"
         "# TYPE bulwark_appraisals_expanded_total counter\n"
         "bulwark_appraisals_expanded_total " +
         std::to_string(expanded_.load()) + "\n";
}

ApiResult<void> Appraiser::expandStored(const std::string& node, ParsedEvidence& ev) {
  if (!ev.incremental()) return {};
  auto copies = store_.logCopies(node, true);
  if (!copies) return std::unexpected(fromStoreError(copies.error(), "node-unknown"));
  if (auto r = expandEvidence(ev, *copies, true); !r) {
    return apiFail(409, "no-evidence",
                   "node " + node + "'s latest evidence continues a log copy the verifier no "
                   "longer holds: " + r.error().message());
  }
  return {};
}

}  // namespace bulwark::server
