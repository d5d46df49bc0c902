#include "server/report/report_source.h"

#include <algorithm>

#include "server/report/bundle.h"
#include "server/report/report_model.h"

namespace bulwark::server::report {

namespace {

NodeSummary summaryOf(const NodeRecord& n) {
  return {n.name, n.state, n.group, n.enrolled_at, n.approved_at, n.updated_at};
}

AppraisalSummary summaryOf(const AppraisalRecord& a) {
  return {a.id, a.appraised_at, a.status, a.reasons_json, a.fresh_until, a.policy_version};
}

// kNotFound → nullopt; other errors pass through.
template <typename T>
Result<std::optional<T>> optional(Result<T> r) {
  if (r) return std::optional<T>(std::move(*r));
  if (r.error().code() == ErrorCode::kNotFound) return std::optional<T>();
  return std::unexpected(r.error());
}

BundleAttestation attestationOf(const AppraisalRecord& a) {
  return {a.node, a.id, a.ear, a.evidence_digest, a.policy_version};
}

Result<NodeReportInput> nodeInput(Store& store, const std::string& name, const ReportRequest& req) {
  auto node = store.getNode(name);
  if (!node) return std::unexpected(node.error());
  NodeReportInput in;
  in.node = summaryOf(*node);
  in.now = req.now;
  auto latest = optional(store.latestAppraisal(name));
  if (!latest) return std::unexpected(latest.error());
  in.latest = std::move(*latest);
  HistoryQuery q;
  q.limit = std::clamp<std::size_t>(req.history, 1, kMaxHistory);
  auto history = store.appraisalHistory(name, q);
  if (!history) return std::unexpected(history.error());
  in.history = std::move(*history);
  auto evidence = optional(store.latestEvidence(name));
  if (!evidence) return std::unexpected(evidence.error());
  // Only the evidence the current verdict judged belongs in its summary.
  if (*evidence && in.latest && (*evidence)->digest == in.latest->evidence_digest) {
    in.evidence = std::move(*evidence);
    auto copy = store.logCopy(name, true);  // what a log shipped incrementally continues
    if (!copy) return std::unexpected(copy.error());
    in.log_copy = std::move(*copy);
  }
  auto policy = store.policyVersion();
  if (!policy) return std::unexpected(policy.error());
  in.policy_version = *policy;
  return in;
}

// The fleet with each node's latest verdict read in full (EAR included), so the fleet
// report and the EARs of a bundle come from the same rows.
Result<std::pair<FleetReportInput, std::vector<BundleAttestation>>> fleetInput(
    Store& store, const ReportRequest& req) {
  auto fleet = store.fleet();
  if (!fleet) return std::unexpected(fleet.error());
  auto policy = store.policyVersion();
  if (!policy) return std::unexpected(policy.error());
  FleetReportInput in{std::move(*fleet), *policy, req.now};
  std::vector<BundleAttestation> ears;
  for (FleetEntry& e : in.fleet) {
    if (!e.latest) continue;
    auto latest = optional(store.latestAppraisal(e.node.name));
    if (!latest) return std::unexpected(latest.error());
    e.latest.reset();
    if (!*latest) continue;  // deleted or re-enrolled meanwhile
    e.latest = summaryOf(**latest);
    ears.push_back(attestationOf(**latest));
  }
  return std::pair{std::move(in), std::move(ears)};
}
}  // namespace

Result<nlohmann::json> loadNodeReport(Store& store, const std::string& node,
                                      const ReportRequest& request) {
  auto in = nodeInput(store, node, request);
  if (!in) return std::unexpected(in.error());
  return nodeReport(*in);
}

Result<nlohmann::json> loadFleetReport(Store& store, const ReportRequest& request) {
  auto in = fleetInput(store, request);
  if (!in) return std::unexpected(in.error());
  return fleetReport(in->first);
}

Result<std::string> loadBundle(Store& store, const std::optional<std::string>& node,
                               const ReportRequest& request, EVP_PKEY* key) {
  if (!node) {
    auto in = fleetInput(store, request);
    if (!in) return std::unexpected(in.error());
    return makeBundle(fleetReport(in->first), in->second, key);
  }
  auto in = nodeInput(store, *node, request);
  if (!in) return std::unexpected(in.error());
  std::vector<BundleAttestation> ears;
  for (const AppraisalRecord& a : in->history) ears.push_back(attestationOf(a));
  bool latest_in_history =
      std::any_of(in->history.begin(), in->history.end(),
                  [&](const AppraisalRecord& a) { return in->latest && a.id == in->latest->id; });
  if (in->latest && !latest_in_history) ears.push_back(attestationOf(*in->latest));
  return makeBundle(nodeReport(*in), ears, key);
}

}  // namespace bulwark::server::report
