// Appraiser: incremental logs (log_copies.h, docs/api.md "Incremental logs"). The copy a
// node has (cached per replica, read from the Store on a miss or a mismatch), whether
// evidence resumes from it with the policy memo or is expanded into whole logs, and the
// copy an appraisal leaves behind.
#include <algorithm>

#include "attest/cel/bulwark_content.h"
#include "server/appraisal/appraiser.h"
#include "server/store/validate.h"

namespace bulwark::server {

namespace {
// Bounds the per-replica cache (a few hundred bytes per node plus its memo).
constexpr std::size_t kMaxCachedNodes = 200000;

// Bulwark records in a CEL log other than the kept one: their entries are not behind
// the copy, so a memo keyed by the copy would not cover them.
bool uncoveredEntries(const ParsedEvidence& ev, std::size_t kept) {
  for (const ParsedLog& l : ev.logs) {
    if (!l.cel || l.index == kept) continue;
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
// starts again from the Store, which dropped its copy.
ApiResult<Appraiser::NodeLogsPtr> Appraiser::nodeLogs(const NodeRecord& node, bool reload) {
  if (!reload) {
    std::lock_guard lock(mu_);
    if (auto it = node_logs_.find(node.name);
        it != node_logs_.end() && it->second->ak_name == node.ak_name &&
        it->second->enrolled_at == node.enrolled_at)
      return it->second;
  }
  auto row = store_.logCopy(node.name, false);
  if (!row) return std::unexpected(fromStoreError(row.error(), "node-unknown"));
  auto fresh = std::make_shared<NodeLogs>();
  fresh->ak_name = node.ak_name;
  fresh->enrolled_at = node.enrolled_at;
  if (*row) {
    auto state = copyStateOf(**row);
    if (!state)
      return apiFail(500, "internal-error", "node " + node.name + ": " + state.error().message());
    fresh->copy = std::move(*state);
  }
  std::lock_guard lock(mu_);
  if (node_logs_.size() >= kMaxCachedNodes) node_logs_.clear();
  node_logs_[node.name] = fresh;
  return NodeLogsPtr(fresh);
}

// Whether the incremental log of `ev` continues the node's copy exactly (sets
// plan.known). Another replica may have moved the copy on: a mismatch reloads once.
ApiResult<bool> Appraiser::resumable(const NodeRecord& node, const ParsedLog& log, LogPlan& plan) {
  HashAlg bank = options_.selection.banks()[0].alg;
  for (bool reload : {false, true}) {
    auto known = nodeLogs(node, reload);
    if (!known) return std::unexpected(known.error());
    plan.known = *known;
    const std::optional<CopyState>& c = plan.known->copy;
    if (c && c->source == log.source && c->offset == log.offset &&
        c->entries == log.entries_before && c->bank == bank)
      return true;
  }
  return false;
}

// Runs before the nonce is consumed, so a log-prefix-unknown answer costs the agent
// nothing but a resend of the whole log with the same nonce.
ApiResult<Appraiser::LogPlan> Appraiser::prepareLogs(
    const NodeRecord& node, ParsedEvidence& ev, std::int64_t policy_version,
    const std::vector<MeasurementAcknowledgment>& acks) {
  LogPlan plan;
  if (!std::any_of(ev.logs.begin(), ev.logs.end(), keepsCopy)) return plan;
  auto incremental = std::find_if(ev.logs.begin(), ev.logs.end(),
                                  [](const ParsedLog& l) { return l.incremental(); });
  if (incremental == ev.logs.end()) {
    auto known = nodeLogs(node, false);  // to tell an unchanged log from a new one
    if (!known) return std::unexpected(known.error());
    plan.known = *known;
    return plan;
  }
  // One copy per node, of the first log that keeps one (concludeLogs): only that log can
  // resume from it (a second incremental log makes expansion refuse the evidence).
  bool one = std::count_if(ev.logs.begin(), ev.logs.end(),
                           [](const ParsedLog& l) { return l.incremental(); }) == 1 &&
             std::find_if(ev.logs.begin(), ev.logs.end(), keepsCopy) == incremental;
  auto ok = resumable(node, *incremental, plan);
  if (!ok) return std::unexpected(ok.error());
  // Nothing appended, no entries from another log, and the memo is for these inputs.
  if (*ok && one && ev.logged.empty() && appendsNothing(*incremental) && plan.known->memo &&
      plan.known->memo->key ==
          memoKey(node.name, *plan.known->copy, policy_version, acks, ev.measurements)) {
    plan.resume = &*plan.known->copy;  // plan.known keeps copy and memo alive
    plan.memo = plan.known->memo.get();
    ++resumed_;
    return plan;
  }
  // Something was appended, the policy inputs moved, or this replica lacks the copy:
  // appraise the whole logs (the Store has the copy's bytes).
  auto copy = store_.logCopy(node.name, true);
  if (!copy) return std::unexpected(fromStoreError(copy.error(), "node-unknown"));
  if (auto r = expandEvidence(ev, *copy ? &**copy : nullptr); !r) {
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
  if (!result.logs_passed) return;
  // One copy per node: the first log that qualifies (an agent naming new logs cannot
  // grow the verifier's storage).
  auto kept = std::find_if(ev.logs.begin(), ev.logs.end(), keepsCopy);
  if (kept == ev.logs.end()) return;
  const ParsedLog& l = *kept;
  auto after = std::make_shared<NodeLogs>();
  after->ak_name = node.ak_name;
  after->enrolled_at = node.enrolled_at;
  if (l.incremental()) {  // resumed: the copy is unchanged, and so is its memo
    after->copy = *plan.resume;
    after->memo = plan.known->memo;
  } else {
    std::string_view bytes = completeBytes(ev, l);
    auto chain = result.log_chains.find(l.index);
    // Too large to keep, or it did not start from reset PCRs (checkLogs): shipped whole.
    if (bytes.size() > kMaxLogCopy || chain == result.log_chains.end()) return;
    HashAlg bank = options_.selection.banks()[0].alg;
    CopyState state{l.source, bytes.size(), l.cel->records.size(), sha256(asBytes(bytes)), bank,
                    chain->second};
    const auto& old = plan.known ? plan.known->copy : std::nullopt;
    if (!old || old->source != state.source || old->offset != state.offset ||
        old->sha256 != state.sha256) {
      plan.write = LogCopy{node.name,
                           l.source,
                           result.counters ? result.counters->reset_count : 0,
                           static_cast<std::int64_t>(state.entries),
                           static_cast<std::int64_t>(state.offset),
                           state.sha256,
                           std::string(hashAlgName(bank)),
                           formatChain(state.chain),
                           std::string(bytes),
                           0};
    }
    after->copy = std::move(state);
    if (result.memo && !uncoveredEntries(ev, l.index)) {
      auto memo = std::make_shared<LogPolicyMemo>(*result.memo);
      memo->key = memoKey(node.name, *after->copy, policy_version, acks, ev.measurements);
      after->memo = std::move(memo);
    }
  }
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
  auto copy = store_.logCopy(node, true);
  if (!copy) return std::unexpected(fromStoreError(copy.error(), "node-unknown"));
  if (auto r = expandEvidence(ev, *copy ? &**copy : nullptr, true); !r) {
    return apiFail(409, "no-evidence",
                   "node " + node + "'s latest evidence continues a log copy the verifier no "
                   "longer holds: " + r.error().message());
  }
  return {};
}

}  // namespace bulwark::server
