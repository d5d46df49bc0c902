#include "agent/inspect/seccomp/effective_policy.h"

#include <algorithm>
#include <map>

#include "agent/inspect/seccomp/condition_text.h"
#include "agent/inspect/seccomp/str_util.h"

namespace bulwark::agent {

bool ActionCase::mayRun() const {
  return !action || action->disposition() != SeccompDisposition::kDenied;
}

std::optional<SeccompAction> SyscallPolicy::unconditionalAction() const {
  if (conditional()) return std::nullopt;
  return cases.front().action;
}

bool SyscallPolicy::mayRun() const {
  return !complete ||
         std::any_of(cases.begin(), cases.end(), [](const ActionCase& c) { return c.mayRun(); });
}

std::string SyscallPolicy::runCondition() const {
  std::vector<std::string> parts;
  for (const ActionCase& c : cases) {
    if (!c.mayRun()) continue;
    std::string when = renderDisjunction(c.when);
    if (when.empty()) when = "always";
    if (!c.action) {
      parts.push_back(
          strCat(when, " (filter returns a value computed from arguments: ", c.label, ")"));
    } else if (c.action->disposition() == SeccompDisposition::kDelegated) {
      parts.push_back(strCat(when, " (", c.label, ": a tracer or user-space supervisor decides)"));
    } else {
      parts.push_back(when);
    }
  }
  if (!complete) parts.push_back("other argument combinations not enumerated (filter too complex)");
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += " || ";
    out += p;  // && binds tighter than ||: no parentheses needed
  }
  return out;
}

const SyscallPolicy* ArchPolicy::find(std::string_view name) const {
  for (const SyscallPolicy& s : syscalls) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const ArchPolicy* EffectivePolicy::find(std::string_view arch_name) const {
  for (const ArchPolicy& a : arches) {
    if (a.arch.name == arch_name) return &a;
  }
  return nullptr;
}

SyscallPolicy evaluateSyscall(std::span<const BpfProgram> chain, const ArchInfo& arch,
                              std::uint32_t nr, const ExploreLimits& limits) {
  const FieldNaming naming{kHostBigEndian, arch.args_are_32bit};
  Exploration ex = exploreChain(chain, arch.audit_arch, nr, naming, limits);
  SyscallPolicy p;
  p.nr = nr;
  p.complete = ex.complete;
  p.reads_arguments = ex.reads_arguments;
  std::map<std::string, std::size_t> index;
  for (const PathOutcome& path : ex.paths) {
    const std::string label = path.action ? path.action->name() : "RET " + path.undetermined;
    auto [it, inserted] = index.try_emplace(label, p.cases.size());
    if (inserted) p.cases.push_back(ActionCase{path.action, label, {}});
    std::vector<std::string>& when = p.cases[it->second].when;
    std::string text = renderConjunction(path.constraints, naming);
    if (std::find(when.begin(), when.end(), text) == when.end()) when.push_back(std::move(text));
  }
  std::stable_sort(p.cases.begin(), p.cases.end(), [](const ActionCase& a, const ActionCase& b) {
    if (!a.action || !b.action) return a.action.has_value() && !b.action.has_value();
    return a.action->precedence() < b.action->precedence();
  });
  // A single action reached on every path holds whatever the arguments are.
  if (p.cases.size() == 1 && p.complete) p.cases.front().when = {""};
  return p;
}

namespace {

// The first number inside the arch's range that has no syscall: no profile can
// name it, so the filter answers it with its default action.
std::optional<std::uint32_t> unnamedNumber(const std::vector<SyscallPolicy>& syscalls) {
  for (std::size_t i = 1; i < syscalls.size(); ++i) {
    if (syscalls[i].nr > syscalls[i - 1].nr + 1) return syscalls[i - 1].nr + 1;
  }
  return std::nullopt;
}

void summarize(ArchPolicy& ap, std::span<const BpfProgram> chain, const ExploreLimits& limits) {
  std::map<std::string, std::size_t> counts;
  for (const SyscallPolicy& s : ap.syscalls) {
    if (!s.conditional()) ++counts[s.cases.front().label];
  }
  std::size_t best = 0;
  for (const auto& [label, n] : counts) {
    if (n > best) {
      best = n;
      ap.default_action = label;
    }
  }
  ap.uniform = !ap.syscalls.empty() && counts.size() == 1 && best == ap.syscalls.size();
  if (auto nr = unnamedNumber(ap.syscalls)) {
    const SyscallPolicy probe = evaluateSyscall(chain, ap.arch, *nr, limits);
    if (!probe.conditional()) ap.default_action = probe.cases.front().label;
  }
}

}  // namespace

Result<EffectivePolicy> computeEffectivePolicy(std::span<const BpfProgram> chain,
                                               const SyscallTable& table,
                                               std::span<const std::string> arch_names,
                                               const ExploreLimits& limits) {
  std::vector<const ArchInfo*> arches;
  if (arch_names.empty()) {
    for (const ArchInfo& a : table.architectures()) arches.push_back(&a);
  }
  for (const std::string& n : arch_names) {
    const ArchInfo* a = table.findArch(n);
    if (a == nullptr) {
      return fail(ErrorCode::kInvalidArgument, strCat("unknown architecture '", n, "'"),
                  "seccomp effective policy");
    }
    arches.push_back(a);
  }
  EffectivePolicy policy;
  for (const ArchInfo* a : arches) {
    ArchPolicy ap;
    ap.arch = *a;
    for (const SyscallInfo& s : table.syscalls(a->token)) {
      SyscallPolicy sp = evaluateSyscall(chain, *a, s.nr, limits);
      sp.name = s.name;
      ap.syscalls.push_back(std::move(sp));
    }
    summarize(ap, chain, limits);
    policy.arches.push_back(std::move(ap));
  }
  return policy;
}

}  // namespace bulwark::agent
