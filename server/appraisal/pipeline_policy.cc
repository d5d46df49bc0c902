// Policy stages: measurements vs approved reference values, container images vs image
// rules, container isolation findings vs the node group's profile (DESIGN §3 step 4).
#include <map>
#include <set>
#include <utility>

#include "server/appraisal/pipeline_util.h"

namespace bulwark::server {

namespace {
using attest::TrustClaim;
namespace ar4si = attest::ar4si;

// Which AR4SI claim a measurement kind speaks for, and its "unknown" value.
struct KindClaim {
  TrustClaim claim;
  std::int8_t unknown;
  std::int8_t contraindicated;
};

KindClaim claimFor(std::string_view kind) {
  if (kind == "host-file") {
    return {TrustClaim::kFileSystem, ar4si::file_system::kUnrecognizedFiles,
            ar4si::file_system::kContraindicatedFiles};
  }
  if (kind == "cmdline") {
    return {TrustClaim::kConfiguration, ar4si::configuration::kUnsafeConfig,
            ar4si::configuration::kUnsupportableConfig};
  }
  return {TrustClaim::kExecutables, ar4si::executables::kUnrecognizedRuntime,
          ar4si::executables::kContraindicatedRuntime};
}

std::string describe(const MeasurementEntry& m) {
  return m.kind + " " + m.subject + " sha256:" + toHex(m.sha256);
}

std::string containerName(const bulwark::v1::ContainerReport& c) {
  if (!c.name().empty()) return c.name();
  return c.id().substr(0, 12);
}

// Acknowledgments that speak for the node this report names. The Appraiser loads them
// by node already; checking the name again keeps another node's history out even if a
// caller passed the wrong list.
std::map<MeasurementEntry, const MeasurementAcknowledgment*> acknowledgedFor(
    const PipelineInput& in) {
  std::map<MeasurementEntry, const MeasurementAcknowledgment*> out;
  if (in.acknowledged == nullptr) return out;
  for (const MeasurementAcknowledgment& a : *in.acknowledged) {
    if (a.node == in.evidence->report.node())
      out.emplace(MeasurementEntry{a.kind, a.subject, a.sha256}, &a);
  }
  return out;
}

// A superseded entry without an approved reference value: a modified file was measured
// earlier in this boot. It fails (as unknown or revoked) unless an operator accepted this
// node's history (POST /v1/nodes/{name}/approve), which is recorded as an event.
class SupersededJudge {
 public:
  SupersededJudge(CheckLedger& ledger, CappedFailures& out, const PipelineInput& in)
      : ledger_(ledger), out_(out), node_(in.evidence->report.node()), acks_(acknowledgedFor(in)) {}
  ~SupersededJudge() {
    if (events_ > kMaxReasonsPerCode) {
      ledger_.event(kAcknowledged,
                    "... and " + std::to_string(events_ - kMaxReasonsPerCode) + " more");
    }
  }
  SupersededJudge(const SupersededJudge&) = delete;
  SupersededJudge& operator=(const SupersededJudge&) = delete;

  void judge(const MeasurementEntry& m, const Bytes& now, ReferenceMatch match) {
    std::string history = m.kind + " " + m.subject + " was sha256:" + toHex(m.sha256) +
                          " earlier this boot, now sha256:" + toHex(now);
    if (auto it = acks_.find(m); it != acks_.end()) {
      if (++events_ <= kMaxReasonsPerCode) {
        ledger_.event(kAcknowledged,
                      history + ": accepted for this node by " + it->second->acknowledged_by);
      }
      return;
    }
    KindClaim kc = claimFor(m.kind);
    out_.add(makeReason("measurement-superseded-unknown", kc.claim,
                        match == ReferenceMatch::kRevokedOnly ? kc.contraindicated : kc.unknown,
                        history +
                            ": a modified file was measured; after investigating, "
                            "`bulwarkctl approve " +
                            node_ + "` accepts this history for this node"));
  }

 private:
  static constexpr const char* kAcknowledged = "measurement-superseded-acknowledged";
  CheckLedger& ledger_;
  CappedFailures& out_;
  std::string node_;
  std::map<MeasurementEntry, const MeasurementAcknowledgment*> acks_;
  std::size_t events_ = 0;
};
}  // namespace

std::map<MeasurementEntry, Bytes> supersededEntries(const ParsedEvidence& ev) {
  // The last digest logged per (kind, subject), in log order: the current one.
  std::map<std::pair<std::string, std::string>, const Bytes*> last;
  for (const MeasurementEntry& m : ev.logged) last[{m.kind, m.subject}] = &m.sha256;
  std::map<MeasurementEntry, Bytes> out;
  for (const MeasurementEntry& m : ev.logged) {
    if (!isReferenceKind(m.kind)) continue;
    const Bytes& now = *last.at({m.kind, m.subject});
    if (now != m.sha256) out.emplace(m, now);
  }
  return out;
}

namespace {
// Incremental evidence the Appraiser neither expanded nor had a memo for: its logged
// entries are not all here, so nothing about them may pass.
void failIncomplete(CappedFailures& out) {
  out.add(makeReason("log-prefix-unknown", TrustClaim::kExecutables,
                     ar4si::kCryptoValidationFailed,
                     "the measurement log was shipped incrementally and the verifier could not "
                     "reconstruct the entries before the shipped part"));
}

// Moves a stage's outcome (recorded on its own ledger) into the appraisal's ledger.
void mergeMeasurements(CheckLedger& ledger, const std::vector<Reason>& reasons, bool passed) {
  for (const Reason& r : reasons) {
    if (r.kind == ReasonKind::kEvent) {
      ledger.event(r.code, r.detail);
    } else {
      ledger.fail(Check::kMeasurements, r);
    }
  }
  if (passed) ledger.passMeasurements();
}

void evaluateMeasurements(CheckLedger& ledger, const PipelineInput& in) {
  const ParsedEvidence& ev = *in.evidence;
  std::set<MeasurementEntry> logged(ev.logged.begin(), ev.logged.end());
  // Images are logged once per digest whatever their name (agent/measure: set semantics).
  std::set<Bytes> logged_images;
  for (const MeasurementEntry& m : ev.logged) {
    if (m.kind == kImageKind) logged_images.insert(m.sha256);
  }
  std::set<MeasurementEntry> all = logged;
  std::size_t failures = 0;
  {
    CappedFailures out(ledger, Check::kMeasurements);
    for (const MeasurementEntry& m : ev.measurements) {
      if (m.kind == kReportOnlyKind) continue;
      all.insert(m);
      bool in_log = m.kind == kImageKind ? logged_images.count(m.sha256) > 0 : logged.count(m) > 0;
      if (in_log) continue;
      KindClaim kc = m.kind == kImageKind ? KindClaim{TrustClaim::kSourcedData, 0,
                                                      ar4si::sourced_data::kContraindicatedSources}
                                          : claimFor(m.kind);
      out.add(makeReason("measurement-not-in-log", kc.claim, kc.contraindicated,
                         describe(m) + " is reported but not in the measurement log"));
    }
    // Only the current digest of each (kind, subject) needs a fleet reference value;
    // earlier ones of this boot are judged by SupersededJudge.
    std::map<MeasurementEntry, Bytes> superseded = supersededEntries(ev);
    SupersededJudge history(ledger, out, in);
    for (const MeasurementEntry& m : all) {
      if (!isReferenceKind(m.kind)) continue;  // image rules decide images (checkImages)
      KindClaim kc = claimFor(m.kind);
      ReferenceMatch match = in.policy->match(m);
      if (auto it = superseded.find(m);
          it != superseded.end() && match != ReferenceMatch::kApproved) {
        history.judge(m, it->second, match);
        continue;
      }
      switch (match) {
        case ReferenceMatch::kApproved:
          break;
        case ReferenceMatch::kRevokedOnly:
          out.add(makeReason("measurement-revoked", kc.claim, kc.contraindicated,
                             describe(m) + " matches only revoked reference values"));
          break;
        case ReferenceMatch::kUnknown:
          out.add(makeReason("measurement-unknown", kc.claim, kc.unknown,
                             describe(m) + " has no approved reference value"));
          break;
      }
    }
    failures = out.count();
  }
  if (failures == 0) ledger.passMeasurements();
}
}  // namespace

void checkMeasurements(CheckLedger& ledger, const PipelineInput& in, LogPolicyMemo* memo_out) {
  if (in.memo != nullptr) {
    mergeMeasurements(ledger, in.memo->measurement_reasons, in.memo->measurements_passed);
    return;
  }
  if (in.evidence->incremental()) {
    CappedFailures out(ledger, Check::kMeasurements);
    failIncomplete(out);
    return;
  }
  // Evaluated on a ledger of its own, so the outcome can be memoized. IMA policy
  // findings (checkLogs) may already have failed this check: passing is then a no-op.
  CheckLedger own;
  evaluateMeasurements(own, in);
  bool passed = own.passed(Check::kMeasurements);
  mergeMeasurements(ledger, own.reasons(), passed);
  if (memo_out != nullptr) {
    memo_out->measurement_reasons = own.reasons();
    memo_out->measurements_passed = passed;
  }
}

void checkImages(CheckLedger& ledger, const PipelineInput& in, LogPolicyMemo* memo_out) {
  const ParsedEvidence& ev = *in.evidence;
  std::set<std::pair<std::string, std::string>> seen;  // (reference, digest)
  std::size_t failures = 0;
  {
    CappedFailures out(ledger, Check::kImages);
    auto judge = [&](const std::string& ref, const std::string& digest, const std::string& who) {
      if (!seen.insert({ref, digest}).second) return;
      ImageVerdict v = in.policy->image(ref.empty() ? digest : ref, digest);
      if (v.decision == ImageDecision::kDenied) {
        out.add(makeReason("image-denied", TrustClaim::kSourcedData,
                           ar4si::sourced_data::kContraindicatedSources, who + ": " + v.detail));
      } else if (v.decision == ImageDecision::kNotAllowed) {
        out.add(makeReason("image-not-allowed", TrustClaim::kSourcedData,
                           ar4si::sourced_data::kUntrustedSources, who + ": " + v.detail));
      }
    };
    for (const auto& c : ev.report.containers()) {
      // Runtimes show untagged images by their id ("sha256:<hex>"): that is a digest.
      bool image_is_id =
          c.image_digest().empty() && c.image().size() == 71 && c.image().starts_with("sha256:");
      judge(image_is_id ? std::string() : c.image(), image_is_id ? c.image() : c.image_digest(),
            "container " + containerName(c) + " image " + c.image());
    }
    // Current images: the agent names them by digest and lists their references in
    // attributes["refs"] (comma-separated); any allowed reference allows the image.
    std::set<std::string> current;
    for (const auto& m : ev.report.measurements()) {
      if (m.kind() != kImageKind) continue;
      std::string digest = "sha256:" + toHex(asBytes(m.sha256()));
      current.insert(digest);
      auto refs = m.attributes().find("refs");
      std::string first = refs == m.attributes().end()
                              ? std::string()
                              : refs->second.substr(0, refs->second.find(','));
      std::string ref = first.empty() ? m.subject() : first;  // no refs: the subject may be one
      if (refs != m.attributes().end()) {
        for (std::size_t pos = 0; pos <= refs->second.size();) {
          std::size_t comma = std::min(refs->second.find(',', pos), refs->second.size());
          std::string candidate = refs->second.substr(pos, comma - pos);
          if (in.policy->image(candidate, digest).decision == ImageDecision::kAllowed)
            ref = candidate;
          pos = comma + 1;
        }
      }
      judge(ref, digest, "image " + m.subject() + (first.empty() ? "" : " (" + first + ")"));
    }
    // Images that ran earlier in this boot (log history): only a deny rule fails them.
    if (in.memo != nullptr) {
      for (const auto& [digest, who] : in.memo->denied_history) judge(std::string(), digest, who);
    } else if (ev.incremental()) {
      failIncomplete(out);
    } else {
      std::vector<std::pair<std::string, std::string>> denied;
      for (const MeasurementEntry& m : ev.logged) {
        std::string digest = "sha256:" + toHex(m.sha256);
        if (m.kind != kImageKind || current.count(digest) > 0) continue;
        if (in.policy->image(std::string(), digest).decision == ImageDecision::kDenied)
          denied.emplace_back(digest, "image " + m.subject + " (ran earlier in this boot)");
      }
      for (const auto& [digest, who] : denied) judge(std::string(), digest, who);
      if (memo_out != nullptr) memo_out->denied_history = std::move(denied);
    }
    failures = out.count();
  }
  if (failures == 0) ledger.passImages();
}

void checkIsolation(CheckLedger& ledger, const PipelineInput& in) {
  const ParsedEvidence& ev = *in.evidence;
  std::size_t failures = 0;
  std::size_t recorded = 0;
  {
    CappedFailures out(ledger, Check::kIsolation);
    for (const auto& c : ev.report.containers()) {
      for (const auto& f : c.findings()) {
        Reason r = makeReason(f.control(), TrustClaim::kConfiguration, 0, f.detail());
        r.container = containerName(c);
        r.severity = f.severity();
        r.control = f.control();
        if (in.profile->violates(f.control(), f.severity())) {
          r.value = f.severity() == "critical" ? ar4si::configuration::kUnsupportableConfig
                                               : ar4si::configuration::kUnsafeConfig;
          r.detail = "container " + r.container + ": " + f.control() + " (" + f.severity() +
                     ") violates profile " + in.profile->name + ": " + f.detail();
          r.code = "isolation-violation";
          out.add(std::move(r));
        } else if (recorded++ < 10 * kMaxReasonsPerCode) {
          ledger.finding(std::move(r));
        }
      }
    }
    failures = out.count();
  }
  if (failures == 0) ledger.passIsolation();
}

}  // namespace bulwark::server
