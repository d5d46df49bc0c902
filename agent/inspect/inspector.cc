#include "agent/inspect/inspector.h"

#include <algorithm>
#include <map>

#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t);
}

bool matches(const ContainerRef& c, const std::string& want) {
  return c.name == want || c.id == want || (want.size() >= 4 && c.id.starts_with(want));
}

}  // namespace

std::string_view inspectionStatusName(InspectionStatus s) {
  switch (s) {
    case InspectionStatus::kInspected:
      return "inspected";
    case InspectionStatus::kExited:
      return "exited";
    case InspectionStatus::kError:
      return "error";
  }
  return "error";
}

const LibseccompSyscallTable& sharedSyscallTable() {
  static const LibseccompSyscallTable table;
  return table;
}

Result<InspectorConfig> loadInspectorConfig(const std::string& profiles_dir,
                                            std::string_view profile) {
  InspectorConfig cfg;
  auto catalog = ControlCatalog::load(profiles_dir + "/controls.json");
  if (!catalog) return std::unexpected(catalog.error());
  auto baseline =
      loadSeccompBaseline(profiles_dir + "/seccomp/baseline-deny.json", sharedSyscallTable());
  if (!baseline) return std::unexpected(baseline.error());
  auto prof = resolveIsolationProfile(profile, profiles_dir);
  if (!prof) return std::unexpected(prof.error());
  cfg.catalog = std::move(*catalog);
  cfg.baseline = std::move(*baseline);
  cfg.profile = std::move(*prof);
  return cfg;
}

Inspector::Inspector(InspectorConfig config, SeccompFilterSource& filters)
    : config_(std::move(config)),
      filters_(filters),
      cache_(sharedSyscallTable(), kernelArchitectures(sharedSyscallTable().nativeArchitecture())) {
}

std::vector<ContainerRef> selectContainers(std::vector<ContainerRef> found,
                                           const std::vector<std::string>& selection,
                                           std::vector<std::string>& problems) {
  // One entry per init PID; Docker's view first because it names the container.
  std::stable_sort(found.begin(), found.end(), [](const ContainerRef& a, const ContainerRef& b) {
    return (a.runtime == "docker") > (b.runtime == "docker");
  });
  std::vector<ContainerRef> unique;
  for (ContainerRef& c : found) {
    const bool dup = std::any_of(unique.begin(), unique.end(), [&](const ContainerRef& u) {
      return u.pid == c.pid || u.id == c.id;
    });
    if (!dup) unique.push_back(std::move(c));
  }
  std::sort(unique.begin(), unique.end(),
            [](const ContainerRef& a, const ContainerRef& b) { return a.name < b.name; });
  if (selection.empty()) return unique;
  std::vector<ContainerRef> out;
  for (const std::string& want : selection) {
    std::vector<const ContainerRef*> hits;
    for (const ContainerRef& c : unique) {
      if (c.name == want || c.id == want) {
        hits = {&c};
        break;
      }
      if (matches(c, want)) hits.push_back(&c);
    }
    if (hits.size() != 1) {
      problems.push_back(
          strCat("container '", want, "': ", hits.empty() ? "not found" : "ambiguous id prefix"));
      continue;
    }
    const bool already = std::any_of(out.begin(), out.end(),
                                     [&](const ContainerRef& o) { return o.id == hits[0]->id; });
    if (!already) out.push_back(*hits[0]);
  }
  return out;
}

InspectionRun Inspector::run(const std::vector<ContainerRuntime*>& runtimes,
                             const std::vector<std::string>& selection) {
  InspectionRun run;
  std::vector<ContainerRef> found;
  for (ContainerRuntime* rt : runtimes) {
    auto list = rt->list();
    if (!list) {
      run.problems.push_back(strCat(rt->name(), ": ", list.error().toString()));
      continue;
    }
    for (ContainerRef& c : *list) found.push_back(std::move(c));
  }
  const std::size_t problems_before = run.problems.size();
  const std::vector<ContainerRef> chosen =
      selectContainers(std::move(found), selection, run.problems);
  run.selection_failed = run.problems.size() != problems_before;
  auto host = collectHostView(config_.proc_root);
  if (!host) {
    run.problems.push_back("host view: " + host.error().toString());
    for (const ContainerRef& c : chosen) {
      ContainerResult r;
      r.ref = c;
      r.status = InspectionStatus::kError;
      r.error = "cannot read the host's namespaces or mounts: " + host.error().toString();
      run.containers.push_back(std::move(r));
    }
    return run;
  }
  for (const ContainerRef& c : chosen) run.containers.push_back(inspect(c, *host));
  return run;
}

Result<void> Inspector::inspectSeccomp(ContainerResult& r, const ProcStatus& status) {
  if (!status.seccomp)
    return fail(ErrorCode::kUnsupported, "no Seccomp: line in status", "seccomp");
  r.seccomp_mode = static_cast<SeccompMode>(*status.seccomp);
  if (*r.seccomp_mode != SeccompMode::kFilter) return {};
  auto dumped = filters_.dump(r.ref.pid);
  if (!dumped) return std::unexpected(dumped.error());
  r.stopped = std::chrono::duration_cast<std::chrono::microseconds>(dumped->stopped);
  std::vector<BpfProgram> chain;
  for (std::size_t i = 0; i < dumped->filters.size(); ++i) {
    auto prog = BpfProgram::fromBytes(dumped->filters[i]);
    if (!prog) return std::unexpected(prog.error().within(strCat("filter ", i)));
    chain.push_back(std::move(*prog));
  }
  r.seccomp_filters = chain.size();
  r.seccomp_chain_id = EffectivePolicyCache::chainId(chain);
  auto policy = cache_.get(chain);
  if (!policy) return std::unexpected(policy.error());
  r.seccomp_policy = std::move(*policy);
  return {};
}

void Inspector::classify(ContainerResult& r, std::vector<RawFinding> raw,
                         const std::vector<SeccompFinding>& seccomp) {
  std::vector<Finding> all;
  for (RawFinding& f : raw) {
    all.push_back({f.control, config_.catalog.severityOf(f.control), std::move(f.detail),
                   config_.catalog.refsOf(f.control)});
  }
  for (const SeccompFinding& s : seccomp) {
    // seccomp-allows severities are per syscall (baseline-deny.json); the
    // catalog rates seccomp-disabled and supplies every reference.
    const std::string severity =
        s.control == "seccomp-disabled" ? config_.catalog.severityOf(s.control) : s.severity;
    std::string detail = s.detail;
    if (s.conditional && !s.condition.empty()) detail += " [conditional: " + s.condition + "]";
    all.push_back({s.control, severity, std::move(detail), config_.catalog.refsOf(s.control)});
  }
  for (const Finding& f : all) {
    const Judgement j = judge(config_.profile, f.control, f.severity);
    if (j.violation) {
      r.violations.push_back(f);
    } else {
      r.accepted.push_back({f, j.reason});
    }
  }
  r.findings = std::move(all);
}

ContainerResult Inspector::inspect(const ContainerRef& ref, const HostView& host) {
  const auto start = Clock::now();
  ContainerResult r;
  r.ref = ref;
  auto facts = collectProcessFacts(ref.pid, ref.start_time, host, config_.proc_root);
  if (!facts) {
    const bool gone = facts.error().code() == ErrorCode::kNotFound;
    r.status = gone ? InspectionStatus::kExited : InspectionStatus::kError;
    r.error = gone ? strCat("container exited between discovery and inspection (pid ", ref.pid, ")")
                   : facts.error().toString();
    r.duration = since(start);
    return r;
  }
  r.processes = facts->processes;
  r.notes = facts->notes;
  if (!facts->memory.known) r.notes.push_back("memory limit unknown: " + facts->memory.problem);
  if (!facts->pids.known) r.notes.push_back("pids limit unknown: " + facts->pids.problem);
  std::vector<SeccompFinding> seccomp;
  if (auto ok = inspectSeccomp(r, facts->status); !ok) {
    const bool gone = ok.error().code() == ErrorCode::kNotFound;
    r.status = gone ? InspectionStatus::kExited : InspectionStatus::kError;
    r.error = gone ? strCat("container exited during inspection (pid ", ref.pid, ")")
                   : "seccomp filter could not be evaluated: " + ok.error().toString();
  } else if (r.seccomp_mode) {
    seccomp = compareWithBaseline(*r.seccomp_mode, r.seccomp_policy.get(), config_.baseline);
  }
  std::vector<RawFinding> raw = checkIsolation(*facts, host, config_.profile);
  if (r.status == InspectionStatus::kError) raw.push_back({"inspection-incomplete", r.error});
  classify(r, std::move(raw), seccomp);
  r.duration = since(start);
  return r;
}

}  // namespace bulwark::agent
