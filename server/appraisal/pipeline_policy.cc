// Policy stages: measurements vs approved reference values, container images vs image
// rules, container isolation findings vs the node group's profile (DESIGN §3 step 4).
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
}  // namespace

void checkMeasurements(CheckLedger& ledger, const PipelineInput& in) {
  const ParsedEvidence& ev = *in.evidence;
  std::set<MeasurementEntry> logged(ev.logged.begin(), ev.logged.end());
  std::set<MeasurementEntry> all = logged;
  std::size_t failures = 0;
  {
    CappedFailures out(ledger, Check::kMeasurements);
    for (const MeasurementEntry& m : ev.measurements) {
      all.insert(m);
      if (logged.count(m) > 0) continue;
      KindClaim kc = claimFor(m.kind);
      out.add(makeReason("measurement-not-in-log", kc.claim, kc.contraindicated,
                         describe(m) + " is reported but not in the measurement log"));
    }
    for (const MeasurementEntry& m : all) {
      if (m.kind == kImageKind) continue;  // image rules decide (checkImages)
      KindClaim kc = claimFor(m.kind);
      switch (in.policy->match(m)) {
        case ReferenceMatch::kApproved: break;
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
  // IMA policy findings (checkLogs) may already have failed this check.
  if (failures == 0) ledger.passMeasurements();
}

void checkImages(CheckLedger& ledger, const PipelineInput& in) {
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
      judge(c.image(), c.image_digest(), "container " + containerName(c) + " image " + c.image());
    }
    auto images = [&](const std::vector<MeasurementEntry>& list) {
      for (const MeasurementEntry& m : list) {
        if (m.kind == kImageKind) judge(m.subject, "sha256:" + toHex(m.sha256), "image " + m.subject);
      }
    };
    images(ev.measurements);
    images(ev.logged);
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
