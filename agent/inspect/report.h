// Renders an InspectionRun: `inspect --json` (docs/inspect.md "Output"), the
// human table, the exit code, and the bulwark.v1.ContainerReport messages the
// attestation cycle puts in the Evidence (bound by the quote, not in a PCR).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "agent/inspect/inspector.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

// {"profile", "containers":[{"id","name","image","pid","runtime","status",
//  "findings":[{"control","severity","detail","refs"}], "accepted":[...],
//  "seccomp":{"mode","filters","default_action","allowed","denied",...},
//  "processes", "notes", "inspection":{"duration_us","stopped_us"}}],
//  "problems":[...]}. "findings" are the profile's violations.
nlohmann::json runToJson(const InspectionRun& run, const IsolationProfile& profile);

// One block per container: header line, then one line per violation
// (severity, control, detail), accepted findings counted.
std::string runToTable(const InspectionRun& run, const IsolationProfile& profile);

// kIncomplete when a container could not be inspected or a requested container
// was not found (an incomplete inspection may hide violations: it wins over
// kViolations), else kViolations when any violation, else kClean. Containers
// that exited between discovery and inspection are reported, not errors.
// `inspect` maps these to exit codes 1, 3 and 0 (agent/command.h).
enum class RunOutcome { kClean, kViolations, kIncomplete };
RunOutcome runOutcome(const InspectionRun& run);

// Evidence view: every finding (not only the profile's violations: the
// verifier applies its own per-group profile), the native architecture's
// seccomp summary. Containers that exited are left out; one that could not be
// inspected carries its inspection-incomplete finding.
std::vector<bulwark::v1::ContainerReport> toContainerReports(const InspectionRun& run);

}  // namespace bulwark::agent
