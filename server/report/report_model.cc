#include "server/report/report_model.h"

#include <array>
#include <ctime>
#include <map>

#include "attest/core/digest.h"
#include "attest/ear/ar4si.h"
#include "server/report/controls.h"
#include "server/report/evidence_summary.h"

namespace bulwark::server::report {

namespace {
using nlohmann::json;

json timeOrNull(std::optional<Millis> t) { return t ? json(utcTime(*t)) : json(nullptr); }

// Reasons as stored by the pipeline (verdict.cc reasonsToJson): failures lower a claim,
// events are informational, and every reason naming a container is a finding — a
// violation when it is a failure, accepted by the profile otherwise.
struct SplitReasons {
  json failures = json::array();
  json events = json::array();
  json findings = json::array();
};

SplitReasons splitReasons(const std::string& reasons_json) {
  SplitReasons out;
  json all = json::parse(reasons_json, nullptr, false);
  if (!all.is_array()) return out;
  for (const json& r : all) {
    if (!r.is_object()) continue;
    std::string kind = r.value("kind", "failure");
    std::string code = r.value("code", "");
    std::string detail = r.value("detail", "");
    if (kind == "event") {
      out.events.push_back({{"code", code}, {"detail", detail}});
      continue;
    }
    if (r.contains("container")) {
      out.findings.push_back({{"container", r.value("container", "")},
                              {"control", r.value("control", code)},
                              {"severity", r.value("severity", "")},
                              {"violation", kind == "failure"},
                              {"detail", detail}});
    }
    if (kind == "failure") {
      out.failures.push_back({{"code", code}, {"claim", r.value("claim", "")}, {"detail", detail}});
    }
  }
  return out;
}

json refsJson(const ControlRefs& r) {
  return {{"nist_800_190", r.nist_800_190}, {"cis_docker", r.cis_docker}, {"pss", r.pss}};
}

const Control* findControl(std::string_view id) {
  for (const Control& c : reportControls()) {
    if (c.source == ControlSource::kIsolation && c.id == baseControlId(id)) return &c;
  }
  return nullptr;
}

// AR4SI vector as the report shows it: every claim, with its value (null = absent) and tier.
json trustClaims(const json& vector) {
  json out = json::array();
  for (attest::TrustClaim claim : attest::kAllTrustClaims) {
    std::string name(attest::trustClaimName(claim));
    json value = nullptr;
    std::string tier = "absent";
    if (vector.is_object() && vector.contains(name) && vector[name].is_number_integer()) {
      auto v = vector[name].get<std::int64_t>();
      if (v >= -128 && v <= 127) {
        value = v;
        tier = attest::tierName(attest::tierOf(static_cast<std::int8_t>(v)));
      }
    }
    out.push_back({{"claim", name}, {"value", value}, {"tier", tier}});
  }
  return out;
}

std::string claimTier(const json& claims, const std::string& claim) {
  for (const json& c : claims) {
    if (c["claim"] == claim) return c["tier"];
  }
  return "absent";
}

json attestationStatus(const Control& c, const json& claims, const json& failures) {
  std::string tier = claimTier(claims, c.claim);
  json codes = json::array();
  for (const json& f : failures) {
    if (f["claim"] == c.claim) codes.push_back(f["code"]);
  }
  std::string status = tier == "affirming"                              ? "pass"
                       : tier == "warning" || tier == "contraindicated" ? "fail"
                                                                        : "not-evaluated";
  std::string note = status == "not-evaluated" ? "claim " + tier + " in the verdict" : "";
  return {{"status", status}, {"note", note}, {"violations", codes.size()}, {"reasons", codes}};
}

// `inspected`: a verdict exists and its evidence listed at least one container.
json isolationStatus(const Control& c, const json& findings, const std::string& not_run) {
  std::size_t violations = 0, accepted = 0;
  for (const json& f : findings) {
    if (baseControlId(f["control"].get<std::string>()) != c.id) continue;
    (f["violation"].get<bool>() ? violations : accepted)++;
  }
  std::string status = !not_run.empty() ? "not-evaluated" : violations ? "fail" : "pass";
  std::string note = !not_run.empty() ? not_run
                     : accepted       ? std::to_string(accepted) + " finding(s) accepted by profile"
                                      : "";
  return {{"status", status}, {"note", note}, {"violations", violations}, {"accepted", accepted}};
}

json controlRow(const Control& c, json status) {
  status["id"] = c.id;
  status["title"] = c.title;
  status["severity"] = c.severity;
  status["source"] = c.source == ControlSource::kAttestation ? "attestation" : "isolation";
  status["refs"] = refsJson(c.refs);
  return status;
}

// Why the isolation controls could not be judged, or "" when they were.
std::string isolationNotRun(bool has_verdict, const json& evidence) {
  if (!has_verdict) return "no verdict";
  if (evidence.is_null()) return "evidence not stored";
  if (!evidence.contains("containers")) return "evidence unreadable";
  if (evidence["containers"] == 0) return "no containers were running";
  return "";
}

json controlsJson(const json& claims, const SplitReasons& reasons, bool has_verdict,
                  const json& evidence) {
  json rows = json::array();
  std::string not_run = isolationNotRun(has_verdict, evidence);
  for (const Control& c : reportControls()) {
    rows.push_back(controlRow(c, c.source == ControlSource::kAttestation
                                     ? attestationStatus(c, claims, reasons.failures)
                                     : isolationStatus(c, reasons.findings, not_run)));
  }
  // Findings whose control the catalog does not know still show (never silently dropped).
  std::map<std::string, Control> unknown;
  for (const json& f : reasons.findings) {
    std::string id(baseControlId(f["control"].get<std::string>()));
    if (!findControl(id))
      unknown[id] = {id, "not in the control catalog", "high", ControlSource::kIsolation, "", {}};
  }
  for (const auto& [id, c] : unknown) {
    rows.push_back(controlRow(c, isolationStatus(c, reasons.findings, not_run)));
  }
  return rows;
}

json timelineEntry(const AppraisalRecord& a) {
  SplitReasons r = splitReasons(a.reasons_json);
  return {{"appraisal_id", a.id},
          {"appraised_at", utcTime(a.appraised_at)},
          {"appraised_at_unix_ms", a.appraised_at},
          {"fresh_until", utcTime(a.fresh_until)},
          {"fresh_until_unix_ms", a.fresh_until},
          {"status", appraisalStatusName(a.status)},
          {"policy_version", a.policy_version},
          {"trust_vector", json::parse(a.trust_vector_json, nullptr, false)},
          {"evidence_sha256", toHex(a.evidence_digest)},
          {"ear_sha256", earDigest(a.ear)},
          {"failures", r.failures.size()}};
}

json nodeJson(const NodeSummary& n, const std::optional<AppraisalRecord>& latest, Millis now) {
  std::optional<Millis> fresh;
  if (latest) fresh = latest->fresh_until;
  return {{"name", n.name},
          {"group", n.group},
          {"state", effectiveStateName(effectiveState(n.state, fresh, now))},
          {"stored_state", nodeStateName(n.state)},
          {"enrolled_at", utcTime(n.enrolled_at)},
          {"approved_at", timeOrNull(n.approved_at)},
          {"fresh_until", timeOrNull(fresh)},
          {"fresh_until_unix_ms", fresh ? json(*fresh) : json(nullptr)}};
}

json header(std::string_view kind, std::int64_t policy_version, Millis now) {
  return {{"kind", kind},
          {"version", kReportVersion},
          {"generated_at", utcTime(now)},
          {"generated_at_unix_ms", now},
          {"policy_version", policy_version}};
}
}  // namespace

json nodeReport(const NodeReportInput& in) {
  json out = header(kNodeReportKind, in.policy_version, in.now);
  out["node"] = nodeJson(in.node, in.latest, in.now);
  SplitReasons reasons;
  json claims = trustClaims(json::object());
  out["verdict"] = nullptr;
  if (in.latest) {
    reasons = splitReasons(in.latest->reasons_json);
    out["verdict"] = timelineEntry(*in.latest);
    claims = trustClaims(out["verdict"]["trust_vector"]);
    out["verdict"]["trust_claims"] = claims;
  }
  out["evidence"] = evidenceSummary(in.evidence, in.latest, in.log_copy ? &*in.log_copy : nullptr);
  out["controls"] = controlsJson(claims, reasons, in.latest.has_value(), out["evidence"]);
  for (json& f : reasons.findings) {
    const Control* c = findControl(f["control"].get<std::string>());
    f["refs"] = refsJson(c ? c->refs : ControlRefs{});
  }
  out["failures"] = std::move(reasons.failures);
  out["events"] = std::move(reasons.events);
  out["findings"] = std::move(reasons.findings);
  json timeline = json::array();
  for (auto it = in.history.rbegin(); it != in.history.rend(); ++it) {
    timeline.push_back(timelineEntry(*it));
  }
  out["timeline"] = std::move(timeline);
  return out;
}

json fleetReport(const FleetReportInput& in) {
  json out = header(kFleetReportKind, in.policy_version, in.now);
  json counts = json::object();
  for (auto s : {EffectiveState::kTrusted, EffectiveState::kStale, EffectiveState::kUntrusted,
                 EffectiveState::kEnrolling, EffectiveState::kRevoked}) {
    counts[std::string(effectiveStateName(s))] = 0;
  }
  json nodes = json::array();
  for (const FleetEntry& e : in.fleet) {
    std::optional<AppraisalRecord> latest;
    if (e.latest) {
      latest = AppraisalRecord{};
      latest->id = e.latest->id;
      latest->fresh_until = e.latest->fresh_until;
    }
    json n = nodeJson(e.node, latest, in.now);
    counts[n["state"].get<std::string>()] = counts[n["state"].get<std::string>()].get<int>() + 1;
    SplitReasons r = e.latest ? splitReasons(e.latest->reasons_json) : SplitReasons{};
    std::size_t violations = 0;
    for (const json& f : r.findings) violations += f["violation"].get<bool>() ? 1 : 0;
    n["last_attestation"] = e.latest ? json(utcTime(e.latest->appraised_at)) : json(nullptr);
    n["last_attestation_unix_ms"] = e.latest ? json(e.latest->appraised_at) : json(nullptr);
    n["appraisal_id"] = e.latest ? json(e.latest->id) : json(nullptr);
    n["status"] = e.latest ? json(appraisalStatusName(e.latest->status)) : json(nullptr);
    n["policy_version"] = e.latest ? json(e.latest->policy_version) : json(nullptr);
    n["failures"] = r.failures.size();
    n["findings"] = r.findings.size();
    n["violations"] = violations;
    n["report"] = "/reports/nodes/" + e.node.name;
    nodes.push_back(std::move(n));
  }
  out["counts"] = std::move(counts);
  out["nodes"] = std::move(nodes);
  return out;
}

std::string utcTime(Millis ms) {
  Millis secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  auto frac = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (!::gmtime_r(&t, &tm)) return "invalid-time";
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", frac);
  return buf;
}

std::string earDigest(std::string_view ear) { return toHex(sha256(asBytes(ear))); }

}  // namespace bulwark::server::report
