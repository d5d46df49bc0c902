#include "agent/inspect/report.h"

#include <nlohmann/json.hpp>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

using nlohmann::json;

json findingJson(const Finding& f) {
  return {{"control", f.control}, {"severity", f.severity}, {"detail", f.detail}, {"refs", f.refs}};
}

json seccompJson(const ContainerResult& r) {
  if (!r.seccomp_mode) return json{{"mode", "unknown"}};
  json s = seccompSummaryJson(*r.seccomp_mode, r.seccomp_filters, r.seccomp_policy.get());
  if (!r.seccomp_chain_id.empty()) s["chain_sha256"] = r.seccomp_chain_id;
  return s;
}

json containerJson(const ContainerResult& r) {
  json findings = json::array();
  for (const Finding& f : r.violations) findings.push_back(findingJson(f));
  json accepted = json::array();
  for (const AcceptedFinding& a : r.accepted) {
    json j = findingJson(a.finding);
    j["reason"] = a.reason;
    accepted.push_back(std::move(j));
  }
  json c = {
      {"id", r.ref.id},
      {"name", r.ref.name},
      {"image", r.ref.image},
      {"image_digest", r.ref.image_digest},
      {"pid", r.ref.pid},
      {"runtime", r.ref.runtime},
      {"status", inspectionStatusName(r.status)},
      {"findings", std::move(findings)},
      {"accepted", std::move(accepted)},
      {"seccomp", seccompJson(r)},
      {"processes", r.processes},
      {"notes", r.notes},
      {"inspection", {{"duration_us", r.duration.count()}, {"stopped_us", r.stopped.count()}}}};
  if (!r.error.empty()) c["error"] = r.error;
  return c;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

json runToJson(const InspectionRun& run, const IsolationProfile& profile) {
  json containers = json::array();
  for (const ContainerResult& r : run.containers) containers.push_back(containerJson(r));
  return {
      {"profile", profile.name}, {"containers", std::move(containers)}, {"problems", run.problems}};
}

std::string runToTable(const InspectionRun& run, const IsolationProfile& profile) {
  std::string out =
      strCat("profile: ", profile.name, "   containers: ", run.containers.size(), "\n");
  for (const ContainerResult& r : run.containers) {
    const std::string short_id = r.ref.id.substr(0, 12);
    out += strCat("\n", r.ref.name, " (", r.ref.runtime, " ", short_id, ", pid ", r.ref.pid,
                  r.ref.image.empty() ? std::string() : ", image " + r.ref.image, ")  ",
                  inspectionStatusName(r.status), ": ", r.violations.size(), " violation(s), ",
                  r.accepted.size(), " accepted\n");
    if (!r.error.empty()) out += "  error: " + r.error + "\n";
    if (r.seccomp_mode) {
      out += strCat("  seccomp: ", seccompModeName(*r.seccomp_mode), ", ", r.seccomp_filters,
                    " filter(s)\n");
    }
    for (const Finding& f : r.violations) {
      out += strCat("  ", pad(f.severity, 9), pad(f.control, 34), f.detail, "\n");
    }
    for (const std::string& n : r.notes) out += "  note: " + n + "\n";
  }
  for (const std::string& p : run.problems) out += "problem: " + p + "\n";
  return out;
}

RunOutcome runOutcome(const InspectionRun& run) {
  bool violations = false;
  for (const ContainerResult& r : run.containers) {
    if (r.status == InspectionStatus::kError) return RunOutcome::kIncomplete;
    violations = violations || !r.violations.empty();
  }
  if (run.selection_failed) return RunOutcome::kIncomplete;
  return violations ? RunOutcome::kViolations : RunOutcome::kClean;
}

std::vector<bulwark::v1::ContainerReport> toContainerReports(const InspectionRun& run) {
  std::vector<bulwark::v1::ContainerReport> out;
  for (const ContainerResult& r : run.containers) {
    if (r.status == InspectionStatus::kExited) continue;
    bulwark::v1::ContainerReport c;
    c.set_id(r.ref.id);
    c.set_name(r.ref.name);
    c.set_image(r.ref.image);
    c.set_image_digest(r.ref.image_digest);
    c.set_runtime(r.ref.runtime);
    c.set_pid(static_cast<std::int32_t>(r.ref.pid));
    for (const Finding& f : r.findings) {
      auto* pf = c.add_findings();
      pf->set_control(f.control);
      pf->set_severity(f.severity);
      pf->set_detail(f.detail);
      for (const std::string& ref : f.refs) pf->add_refs(ref);
    }
    auto* s = c.mutable_seccomp();
    if (r.seccomp_mode) s->set_mode(static_cast<std::uint32_t>(*r.seccomp_mode));
    s->set_filters(static_cast<std::uint32_t>(r.seccomp_filters));
    if (r.seccomp_policy && !r.seccomp_policy->arches.empty()) {
      const ArchPolicy& native = r.seccomp_policy->arches.front();
      s->set_default_action(native.default_action);
      for (const SyscallPolicy& sp : native.syscalls) {
        if (sp.conditional()) {
          s->add_conditional(strCat(sp.name, ": ", sp.runCondition()));
        } else if (sp.mayRun()) {
          s->add_allowed(sp.name);
        } else {
          s->add_denied(sp.name);
        }
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace bulwark::agent
