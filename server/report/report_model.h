// The compliance report as data (DESIGN §8, docs/reports.md): pure functions from what the
// Store holds to one JSON document per node and one for the fleet. The HTML pages
// (html.h) and the signed bundle (bundle.h) are both made from these documents, so the
// JSON export, the pages and the bundle always say the same thing.
//
// Effective state ("stale") is computed against the injected `now`, as for relying
// parties (DESIGN §3 Gating). Strings from agents (details, container names) are copied
// as-is here; escaping is the renderer's job.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server/store/store_types.h"

namespace bulwark::server::report {

inline constexpr std::string_view kNodeReportKind = "bulwark.report.node";
inline constexpr std::string_view kFleetReportKind = "bulwark.report.fleet";
inline constexpr int kReportVersion = 1;

struct NodeReportInput {
  NodeSummary node;
  std::optional<AppraisalRecord> latest;   // the node's current verdict
  std::vector<AppraisalRecord> history;    // newest first, as Store::appraisalHistory
  std::optional<StoredEvidence> evidence;  // the evidence `latest` judged
  std::optional<LogCopy> log_copy;         // the verifier's copy of its incremental log
  std::int64_t policy_version = 0;         // current policy version
  Millis now = 0;
};

struct FleetReportInput {
  std::vector<FleetEntry> fleet;  // ordered by name
  std::int64_t policy_version = 0;
  Millis now = 0;
};

// {"kind":"bulwark.report.node","version":1,"generated_at",..,"node",..,"verdict",..,
//  "controls",..,"findings","failures","events","timeline","evidence"} (docs/reports.md).
nlohmann::json nodeReport(const NodeReportInput& in);

// {"kind":"bulwark.report.fleet",...,"counts":{state: n},"nodes":[...]}.
nlohmann::json fleetReport(const FleetReportInput& in);

// "2024-05-01T12:00:00.123Z" (UTC).
std::string utcTime(Millis ms);

// Lower-case hex SHA-256 of an EAR exactly as issued: what reports call the EAR digest.
std::string earDigest(std::string_view ear);

}  // namespace bulwark::server::report
