// Inspects containers: discovery over the configured runtimes, facts from
// /proc, the kernel-loaded seccomp chain via ptrace, checks, the control
// catalog's severities and references, and the isolation profile's verdict.
//
// Cost model (docs/inspect.md "Cost"): the libseccomp syscall table (~200 ms)
// is built once per agent process (sharedSyscallTable()); an Inspector keeps an
// EffectivePolicyCache keyed by the chain's SHA-256, so containers started
// from the same profile cost one evaluation between them. Construct one
// Inspector per agent process and reuse it across cycles.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/inspect/checks.h"
#include "agent/inspect/container.h"
#include "agent/inspect/controls.h"
#include "agent/inspect/seccomp/baseline.h"
#include "agent/inspect/seccomp/libseccomp_syscall_table.h"
#include "agent/inspect/seccomp/policy_cache.h"
#include "agent/inspect/seccomp/seccomp_findings.h"
#include "agent/inspect/seccomp_dump.h"

namespace bulwark::agent {

struct Finding {
  std::string control;
  std::string severity;
  std::string detail;
  std::vector<std::string> refs;
};

struct AcceptedFinding {
  Finding finding;
  std::string reason;  // the profile rule that accepts it
};

enum class InspectionStatus {
  kInspected,  // every check ran
  kExited,     // the container went away between discovery and inspection
  kError,      // could not inspect (permission, unreadable /proc, bad filter, ...)
};
std::string_view inspectionStatusName(InspectionStatus s);

struct ContainerResult {
  ContainerRef ref;
  InspectionStatus status = InspectionStatus::kInspected;
  std::string error;                      // for kExited / kError
  std::vector<Finding> findings;          // every finding, catalog severity
  std::vector<Finding> violations;        // the profile's violations (subset of findings)
  std::vector<AcceptedFinding> accepted;  // the rest, with the reason
  std::optional<SeccompMode> seccomp_mode;
  std::size_t seccomp_filters = 0;
  std::string seccomp_chain_id;  // EffectivePolicyCache::chainId
  std::shared_ptr<const EffectivePolicy> seccomp_policy;
  std::vector<pid_t> processes;
  std::vector<std::string> notes;
  std::chrono::microseconds duration{};  // whole inspection of this container
  std::chrono::microseconds stopped{};   // tracee held in ptrace stop
};

struct InspectionRun {
  std::vector<ContainerResult> containers;
  std::vector<std::string> problems;  // discovery sources that failed, unmatched selections
  bool selection_failed = false;      // a requested container was not found
};

// Built on first use (~200 ms), then shared by every Inspector in the process.
const LibseccompSyscallTable& sharedSyscallTable();

struct InspectorConfig {
  IsolationProfile profile;
  ControlCatalog catalog;
  SeccompBaseline baseline;
  std::string proc_root = "/proc";
};

// Loads profiles_dir/controls.json, profiles_dir/seccomp/baseline-deny.json and
// the isolation profile (name or path) into a config.
[[nodiscard]] Result<InspectorConfig> loadInspectorConfig(const std::string& profiles_dir,
                                                          std::string_view profile);

class Inspector {
 public:
  // `filters` must outlive the Inspector (PtraceSeccompDumper in production).
  Inspector(InspectorConfig config, SeccompFilterSource& filters);

  // Discovers containers from `runtimes`, keeps those matching `selection`
  // (id, unique id prefix or name; empty = all) and inspects each one.
  InspectionRun run(const std::vector<ContainerRuntime*>& runtimes,
                    const std::vector<std::string>& selection);

  // One container against a host snapshot (collectHostView()).
  ContainerResult inspect(const ContainerRef& ref, const HostView& host);

  const InspectorConfig& config() const { return config_; }
  const EffectivePolicyCache& policyCache() const { return cache_; }

 private:
  Result<void> inspectSeccomp(ContainerResult& r, const ProcStatus& status);
  void classify(ContainerResult& r, std::vector<RawFinding> raw,
                const std::vector<SeccompFinding>& seccomp);

  InspectorConfig config_;
  SeccompFilterSource& filters_;
  EffectivePolicyCache cache_;
};

// Merges containers seen by several runtimes (same init PID: Docker's view
// wins, it has names and images) and applies the selection. Unmatched or
// ambiguous selection entries are appended to `problems`.
std::vector<ContainerRef> selectContainers(std::vector<ContainerRef> found,
                                           const std::vector<std::string>& selection,
                                           std::vector<std::string>& problems);

}  // namespace bulwark::agent
