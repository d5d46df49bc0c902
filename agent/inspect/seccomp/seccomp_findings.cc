#include "agent/inspect/seccomp/seccomp_findings.h"

#include <nlohmann/json.hpp>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

// Per-architecture verdict on one baseline syscall.
struct ArchHit {
  std::string arch;
  std::uint32_t nr = 0;
  bool unconditional = false;
  std::string label;      // unconditional: the action
  std::string condition;  // conditional: when it may run
};

std::vector<ArchHit> hitsFor(const EffectivePolicy& policy, const std::string& syscall) {
  std::vector<ArchHit> hits;
  for (const ArchPolicy& ap : policy.arches) {
    const SyscallPolicy* sp = ap.find(syscall);
    if (sp == nullptr || !sp->mayRun()) continue;
    ArchHit h{ap.arch.name, sp->nr, false, {}, {}};
    const auto action = sp->unconditionalAction();
    if (action && action->disposition() == SeccompDisposition::kPermitted) {
      h.unconditional = true;
      h.label = action->name();
    } else {
      h.condition = sp->runCondition();
    }
    hits.push_back(std::move(h));
  }
  return hits;
}

SeccompFinding allowsFinding(const BaselineEntry& entry, const std::vector<ArchHit>& hits,
                             const std::vector<std::string>& refs) {
  SeccompFinding f;
  f.control = "seccomp-allows:" + entry.syscall;
  f.severity = entry.severity;
  f.refs = refs;
  f.syscall = entry.syscall;
  f.conditional = true;
  std::string where;
  for (const ArchHit& h : hits) {
    f.arches.push_back(h.arch);
    if (h.unconditional) f.conditional = false;
    if (!where.empty()) where += "; ";
    where += h.unconditional ? strCat(h.arch, " (nr ", h.nr, "): ", h.label)
                             : strCat(h.arch, " (nr ", h.nr, "): when ", h.condition);
  }
  for (const ArchHit& h : hits) {
    if (h.unconditional) continue;
    if (!f.condition.empty()) f.condition += "; ";
    f.condition += strCat(h.arch, ": ", h.condition);
  }
  f.detail = strCat("the seccomp filter lets ", entry.syscall, " run (", where,
                    "), the baseline requires it denied: ", entry.reason);
  return f;
}

nlohmann::json archJson(const ArchPolicy& ap) {
  nlohmann::json allowed = nlohmann::json::array();
  nlohmann::json denied = nlohmann::json::array();
  nlohmann::json conditional = nlohmann::json::array();
  for (const SyscallPolicy& s : ap.syscalls) {
    if (s.conditional()) {
      nlohmann::json cases = nlohmann::json::array();
      for (const ActionCase& c : s.cases) {
        cases.push_back({{"action", c.label}, {"when", c.when}});
      }
      conditional.push_back({{"syscall", s.name},
                             {"nr", s.nr},
                             {"complete", s.complete},
                             {"cases", std::move(cases)}});
    } else if (s.mayRun()) {
      allowed.push_back(s.name);
    } else {
      denied.push_back(s.name);
    }
  }
  return {{"arch", ap.arch.name},        {"default_action", ap.default_action},
          {"uniform", ap.uniform},       {"allowed", std::move(allowed)},
          {"denied", std::move(denied)}, {"conditional", std::move(conditional)}};
}

}  // namespace

std::string_view seccompModeName(SeccompMode mode) {
  switch (mode) {
    case SeccompMode::kDisabled:
      return "disabled";
    case SeccompMode::kStrict:
      return "strict";
    case SeccompMode::kFilter:
      return "filter";
  }
  return "unknown";
}

std::vector<SeccompFinding> compareWithBaseline(SeccompMode mode, const EffectivePolicy* policy,
                                                const SeccompBaseline& baseline) {
  std::vector<SeccompFinding> out;
  if (mode == SeccompMode::kDisabled) {
    SeccompFinding f;
    f.control = "seccomp-disabled";
    f.severity = "high";
    f.refs = baseline.refs;
    f.detail =
        "the process runs without a seccomp filter (Seccomp: 0): every syscall, "
        "including the baseline's " +
        std::to_string(baseline.deny.size()) + ", is available";
    out.push_back(std::move(f));
    return out;
  }
  if (mode == SeccompMode::kStrict || policy == nullptr) return out;
  for (const BaselineEntry& entry : baseline.deny) {
    const std::vector<ArchHit> hits = hitsFor(*policy, entry.syscall);
    if (!hits.empty()) out.push_back(allowsFinding(entry, hits, baseline.refs));
  }
  return out;
}

nlohmann::json seccompSummaryJson(SeccompMode mode, std::size_t filters,
                                  const EffectivePolicy* policy) {
  nlohmann::json out = {{"mode", seccompModeName(mode)}, {"filters", filters}};
  if (mode != SeccompMode::kFilter || policy == nullptr || policy->arches.empty()) return out;
  nlohmann::json arches = nlohmann::json::array();
  for (const ArchPolicy& ap : policy->arches) arches.push_back(archJson(ap));
  const nlohmann::json& native = arches.front();
  out["arch"] = native["arch"];
  out["default_action"] = native["default_action"];
  out["allowed"] = native["allowed"];
  out["denied"] = native["denied"];
  out["conditional"] = native["conditional"];
  out["arches"] = std::move(arches);
  return out;
}

}  // namespace bulwark::agent
