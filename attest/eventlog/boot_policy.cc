#include "attest/eventlog/boot_policy.h"

#include <algorithm>
#include <regex>

#include "attest/eventlog/event_log.h"
#include "attest/eventlog/event_types.h"

namespace bulwark::attest::eventlog {

namespace {

// libstdc++'s std::regex recurses per input character; the kernel command line is at
// most 4 KiB (COMMAND_LINE_SIZE on the architectures we run on), so bound it there.
constexpr std::size_t kMaxRegexInput = 4096;

std::string joinPcrs(const std::vector<std::uint32_t>& pcrs) {
  std::string s;
  for (auto p : pcrs) s += (s.empty() ? "" : ",") + std::to_string(p);
  return s;
}

bool isHexDigest(const std::string& s) {
  return !s.empty() && s.size() % 2 == 0 && s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string cmdlineRuleName(const CmdlineRule& r) {
  static constexpr const char* kNames[] = {"require", "forbid", "require-regex", "forbid-regex"};
  return std::string("kernel-cmdline ") + kNames[static_cast<int>(r.kind)] + " \"" + r.pattern + "\"";
}

BootClaim secureBootClaim(const BootFacts& f) {
  if (!f.secure_boot) return {"secure-boot", BootReason::kSecureBootUnknown, "no SecureBoot variable measured in PCR 7"};
  if (!*f.secure_boot) return {"secure-boot", BootReason::kSecureBootDisabled, "SecureBoot variable is 0"};
  return {"secure-boot", BootReason::kOk, "enabled"};
}

BootClaim separatorClaim(const BootFacts& f) {
  std::vector<std::uint32_t> missing;
  for (std::uint32_t i = 0; i < 8; ++i) {
    if (!f.separators[i]) missing.push_back(i);
  }
  if (!missing.empty()) return {"separators", BootReason::kSeparatorMissing, "no EV_SEPARATOR in PCR " + joinPcrs(missing)};
  if (!f.error_separators.empty()) {
    return {"separators", BootReason::kSeparatorError, "error separator in PCR " + joinPcrs(f.error_separators)};
  }
  return {"separators", BootReason::kOk, "PCRs 0-7 separated"};
}

BootClaim allowedAppsClaim(const BootFacts& f, const BootPolicy& p) {
  std::string bad;
  for (const auto& app : f.boot_applications) {
    auto it = app.digests.find(p.digest_alg);
    std::string hex = it == app.digests.end() ? "" : toHex(it->second);
    if (hex.empty() || !p.allowed_boot_applications->contains(hex)) {
      bad += (bad.empty() ? "" : "; ") + std::string("event ") + std::to_string(app.event_index) + " " +
             app.path + " " + std::string(hashAlgName(p.digest_alg)) + ":" + (hex.empty() ? "(no digest)" : hex);
    }
  }
  if (!bad.empty()) return {"boot-applications", BootReason::kBootAppNotAllowed, bad};
  return {"boot-applications", BootReason::kOk, std::to_string(f.boot_applications.size()) + " allowed"};
}

void collectRevoked(const std::map<HashAlg, Bytes>& digests, std::size_t index, const std::string& what,
                    const std::set<std::string>& forbidden, std::string& out) {
  for (const auto& [alg, d] : digests) {
    std::string hex = toHex(d);
    if (forbidden.contains(hex)) {
      out += (out.empty() ? "" : "; ") + what + " (event " + std::to_string(index) + ") " +
             std::string(hashAlgName(alg)) + ":" + hex;
    }
  }
}

BootClaim revokedClaim(const BootFacts& f, const BootPolicy& p) {
  std::string bad;
  for (const auto& img : f.boot_applications) collectRevoked(img.digests, img.event_index, "boot application " + img.path, p.forbidden_digests, bad);
  for (const auto& img : f.drivers) collectRevoked(img.digests, img.event_index, "driver " + img.path, p.forbidden_digests, bad);
  for (const auto& k : f.kernels) collectRevoked(k.digests, k.event_index, "kernel " + k.path, p.forbidden_digests, bad);
  for (const auto& i : f.initrds) collectRevoked(i.digests, i.event_index, "initrd " + i.path, p.forbidden_digests, bad);
  if (!bad.empty()) return {"revoked-digests", BootReason::kDigestRevoked, bad};
  return {"revoked-digests", BootReason::kOk, "no revoked digest loaded"};
}

BootClaim cmdlineClaim(const BootFacts& f, const CompiledBootPolicy& cp, std::size_t index) {
  const CmdlineRule& rule = cp.policy().cmdline_rules[index];
  std::string name = cmdlineRuleName(rule);
  if (f.kernel_cmdlines.empty()) return {name, BootReason::kCmdlineMissing, "no kernel command line measured"};
  bool require = rule.kind == CmdlineRule::Kind::kRequireSubstring || rule.kind == CmdlineRule::Kind::kRequireRegex;
  bool regex = rule.kind == CmdlineRule::Kind::kRequireRegex || rule.kind == CmdlineRule::Kind::kForbidRegex;
  // Every command line that was measured booted something, so each must comply.
  for (const auto& cl : f.kernel_cmdlines) {
    std::string where = "event " + std::to_string(cl.event_index) + " (" + cl.source + ")";
    if (!cl.bound) return {name, BootReason::kCmdlineUnbound, where + ": text not bound to its digest"};
    std::optional<bool> found = regex ? cp.regexMatches(index, cl.text)
                                      : std::optional<bool>(cl.text.find(rule.pattern) != std::string::npos);
    if (!found) return {name, BootReason::kCmdlineUnbound, where + ": command line too long to evaluate"};
    if (require && !*found) return {name, BootReason::kCmdlineRequiredAbsent, where + ": \"" + cl.text + "\""};
    if (!require && *found) return {name, BootReason::kCmdlineForbiddenPresent, where + ": \"" + cl.text + "\""};
  }
  return {name, BootReason::kOk, std::to_string(f.kernel_cmdlines.size()) + " command line(s) comply"};
}

BootClaim variableClaim(const BootFacts& f, const std::string& name, const std::set<std::string>& allowed) {
  std::string rule = "variable " + name;
  const SecureBootVariable* v = f.variable(name);
  if (v == nullptr) return {rule, BootReason::kVariableMissing, name + " not measured in PCR 7"};
  std::string hex = toHex(v->data_sha256);
  if (!allowed.contains(hex)) return {rule, BootReason::kVariableNotAllowed, name + " sha256:" + hex};
  return {rule, BootReason::kOk, name + " sha256:" + hex};
}

}  // namespace

std::string_view bootReasonName(BootReason reason) {
  switch (reason) {
    case BootReason::kOk: return "ok";
    case BootReason::kLogMalformed: return "log-malformed";
    case BootReason::kLogDoesNotReplay: return "log-does-not-replay";
    case BootReason::kPcrNotQuoted: return "pcr-not-quoted";
    case BootReason::kLogInconsistent: return "log-inconsistent";
    case BootReason::kSecureBootDisabled: return "secure-boot-disabled";
    case BootReason::kSecureBootUnknown: return "secure-boot-unknown";
    case BootReason::kSeparatorMissing: return "separator-missing";
    case BootReason::kSeparatorError: return "separator-error";
    case BootReason::kBootAppNotAllowed: return "boot-application-not-allowed";
    case BootReason::kDigestRevoked: return "digest-revoked";
    case BootReason::kCmdlineMissing: return "cmdline-missing";
    case BootReason::kCmdlineUnbound: return "cmdline-unbound";
    case BootReason::kCmdlineRequiredAbsent: return "cmdline-required-absent";
    case BootReason::kCmdlineForbiddenPresent: return "cmdline-forbidden-present";
    case BootReason::kVariableMissing: return "variable-missing";
    case BootReason::kVariableNotAllowed: return "variable-not-allowed";
  }
  return "unknown";
}

bool isEvidenceFailure(BootReason r) {
  return r == BootReason::kLogMalformed || r == BootReason::kLogDoesNotReplay ||
         r == BootReason::kPcrNotQuoted || r == BootReason::kLogInconsistent;
}

struct CompiledBootPolicy::Regexes {
  std::vector<std::optional<std::regex>> by_rule;  // index = cmdline rule index
};

CompiledBootPolicy::CompiledBootPolicy(BootPolicy policy, std::unique_ptr<Regexes> regexes)
    : policy_(std::move(policy)), regexes_(std::move(regexes)) {}
CompiledBootPolicy::~CompiledBootPolicy() = default;
CompiledBootPolicy::CompiledBootPolicy(CompiledBootPolicy&&) noexcept = default;
CompiledBootPolicy& CompiledBootPolicy::operator=(CompiledBootPolicy&&) noexcept = default;

std::optional<bool> CompiledBootPolicy::regexMatches(std::size_t index, std::string_view text) const {
  if (index >= regexes_->by_rule.size() || !regexes_->by_rule[index] || text.size() > kMaxRegexInput) {
    return std::nullopt;
  }
  try {
    return std::regex_search(text.begin(), text.end(), *regexes_->by_rule[index]);
  } catch (const std::regex_error&) {
    return std::nullopt;  // error_complexity / error_stack: not evaluable, never "no match"
  }
}

Result<CompiledBootPolicy> compileBootPolicy(BootPolicy policy) {
  auto regexes = std::make_unique<CompiledBootPolicy::Regexes>();
  for (const auto& rule : policy.cmdline_rules) {
    bool regex = rule.kind == CmdlineRule::Kind::kRequireRegex || rule.kind == CmdlineRule::Kind::kForbidRegex;
    if (!regex) {
      regexes->by_rule.emplace_back();
      continue;
    }
    try {
      regexes->by_rule.emplace_back(std::regex(rule.pattern, std::regex::ECMAScript));
    } catch (const std::regex_error& e) {
      return fail(ErrorCode::kInvalidArgument, std::string("kernel cmdline regex does not compile: ") + e.what(), rule.pattern);
    }
  }
  auto normalise = [](std::set<std::string>& set, const char* what) -> Result<void> {
    std::set<std::string> out;
    for (const auto& s : set) {
      std::string h = lowercase(s);
      if (!isHexDigest(h)) return fail(ErrorCode::kInvalidArgument, std::string("not a hex digest in ") + what, s);
      out.insert(h);
    }
    set = std::move(out);
    return {};
  };
  if (policy.allowed_boot_applications) {
    if (auto ok = normalise(*policy.allowed_boot_applications, "allowed_boot_applications"); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = normalise(policy.forbidden_digests, "forbidden_digests"); !ok) return std::unexpected(ok.error());
  for (auto& [name, set] : policy.allowed_variables) {
    if (auto ok = normalise(set, "allowed_variables"); !ok) return std::unexpected(ok.error());
  }
  return CompiledBootPolicy(std::move(policy), std::move(regexes));
}

std::vector<BootClaim> evaluateBootPolicy(const BootFacts& facts, const CompiledBootPolicy& cp) {
  const BootPolicy& p = cp.policy();
  std::vector<BootClaim> out;
  if (p.require_secure_boot) out.push_back(secureBootClaim(facts));
  if (p.require_separators) out.push_back(separatorClaim(facts));
  if (p.allowed_boot_applications) out.push_back(allowedAppsClaim(facts, p));
  if (!p.forbidden_digests.empty()) out.push_back(revokedClaim(facts, p));
  for (std::size_t i = 0; i < p.cmdline_rules.size(); ++i) out.push_back(cmdlineClaim(facts, cp, i));
  for (const auto& [name, allowed] : p.allowed_variables) out.push_back(variableClaim(facts, name, allowed));
  return out;
}

std::set<std::uint32_t> pcrsUsedBy(const BootPolicy& p) {
  std::set<std::uint32_t> pcrs;
  if (p.require_secure_boot || !p.allowed_variables.empty()) pcrs.insert(7);
  if (p.require_separators) pcrs.insert({0, 1, 2, 3, 4, 5, 6, 7});
  if (p.allowed_boot_applications) pcrs.insert(4);
  if (!p.forbidden_digests.empty()) pcrs.insert({2, 4, 9});
  if (!p.cmdline_rules.empty()) pcrs.insert(8);
  return pcrs;
}

bool BootAppraisal::affirming() const {
  return !claims.empty() && std::all_of(claims.begin(), claims.end(), [](const BootClaim& c) { return c.passed(); });
}

BootReason BootAppraisal::primaryReason() const {
  for (const auto& c : claims) {
    if (!c.passed()) return c.reason;
  }
  return claims.empty() ? BootReason::kLogMalformed : BootReason::kOk;
}

namespace {

// A PCR counts as quoted when some bank the log replays carries it.
bool quotedPcr(const PcrBanks& quoted, const Replay& rep, std::uint32_t pcr) {
  return std::any_of(quoted.begin(), quoted.end(), [&](const auto& bank) {
    return rep.banks.contains(bank.first) && bank.second.contains(pcr);
  });
}

BootClaim coverageClaim(const PcrBanks& quoted, const Replay& rep, const BootPolicy& p) {
  std::vector<std::uint32_t> missing;
  for (std::uint32_t pcr : pcrsUsedBy(p)) {
    if (!quotedPcr(quoted, rep, pcr)) missing.push_back(pcr);
  }
  if (!missing.empty()) return {"quote-coverage", BootReason::kPcrNotQuoted, "policy needs PCR " + joinPcrs(missing)};
  return {"quote-coverage", BootReason::kOk, "every PCR the policy uses was quoted"};
}

}  // namespace

BootAppraisal appraiseBootLog(ByteView log_bytes, const PcrBanks& quoted, const CompiledBootPolicy& policy) {
  BootAppraisal out;
  auto log = parseEventLog(log_bytes);
  if (!log) return {{{"event-log", BootReason::kLogMalformed, log.error().toString()}}, {}, {}};
  auto rep = replay(*log);
  if (!rep) return {{{"event-log", BootReason::kLogMalformed, rep.error().toString()}}, {}, {}};
  out.replay = *rep;
  std::size_t compared = 0;
  for (const auto& [alg, values] : quoted) compared += values.size();
  auto mismatches = comparePcrs(*rep, quoted);
  if (compared == 0 || !mismatches.empty()) {
    std::string detail = compared == 0 ? "no quoted PCRs to replay against" : "";
    for (const auto& m : mismatches) detail += (detail.empty() ? "" : "; ") + m.toString();
    out.claims.push_back({"replay", BootReason::kLogDoesNotReplay, detail});
    return out;
  }
  out.claims.push_back({"replay", BootReason::kOk, std::to_string(compared) + " PCR values reproduced"});
  out.claims.push_back(coverageClaim(quoted, *rep, policy.policy()));
  // Facts come only from records in quoted PCRs: nothing vouches for the others.
  std::erase_if(log->events, [&](const Event& e) { return !quotedPcr(quoted, *rep, e.pcr); });
  auto facts = bootFacts(*log);
  if (!facts) {
    out.claims.push_back({"event-data", BootReason::kLogInconsistent, facts.error().toString()});
    return out;
  }
  out.facts = *facts;
  auto claims = evaluateBootPolicy(*facts, policy);
  out.claims.insert(out.claims.end(), claims.begin(), claims.end());
  return out;
}

}  // namespace bulwark::attest::eventlog
