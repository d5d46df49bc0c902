// The pure policy stages on hand-built evidence, for the agent's conventions
// (agent/measure): images named by digest with their references in attributes["refs"]
// and logged once per digest; report-only "oci-bundle" measurements.
#include <gtest/gtest.h>

#include "attest/core/digest.h"
#include "server/appraisal/pipeline.h"

namespace bulwark::server {
namespace {

Bytes h(std::string_view s) { return sha256(asBytes(s)); }
std::string dig(std::string_view s) { return "sha256:" + toHex(h(s)); }

struct Stage {
  ParsedEvidence ev;
  PolicySnapshot policy;
  IsolationProfile profile;
  attest::PcrSelection selection = *attest::PcrSelection::parse("sha256:15");

  void measure(const std::string& kind, const std::string& subject, std::string_view content,
               bool logged, std::map<std::string, std::string> attrs = {}) {
    auto* m = ev.report.add_measurements();
    m->set_kind(kind);
    m->set_subject(subject);
    m->set_sha256(std::string(reinterpret_cast<const char*>(h(content).data()), 32));
    for (auto& [k, v] : attrs) (*m->mutable_attributes())[k] = v;
    ev.measurements.push_back({kind, subject, h(content)});
    if (logged) ev.logged.push_back({kind, subject, h(content)});
  }
  std::set<std::string> run() {
    PipelineInput in;
    in.evidence = &ev;
    in.expected = &selection;
    in.policy = &policy;
    in.profile = &profile;
    CheckLedger ledger;
    checkMeasurements(ledger, in);
    checkImages(ledger, in);
    std::set<std::string> codes;
    for (const Reason& r : ledger.reasons()) codes.insert(r.code);
    passedMeasurements = ledger.passed(Check::kMeasurements);
    passedImages = ledger.passed(Check::kImages);
    return codes;
  }
  bool passedMeasurements = false, passedImages = false;
};

ReferenceValue approved(std::string kind, std::string subject, std::string_view content) {
  ReferenceValue v;
  v.kind = std::move(kind);
  v.subject = std::move(subject);
  v.sha256 = h(content);
  v.source = "manual";
  v.state = ReferenceState::kApproved;
  return v;
}

TEST(PolicyStages, ImagesByDigestWithReferencesInAttributes) {
  Stage s;
  s.policy =
      PolicySnapshot(1, {approved("runtime-binary", "/usr/bin/runc", "runc")},
                     {{1, ImageRuleKind::kAllowPrefix, "registry.example.com/team", 0, "t"}});
  s.measure("runtime-binary", "/usr/bin/runc", "runc", true);
  // Logged under the digest at first sight; a second tag of it is not logged again.
  s.measure("image", dig("app"), "app", true,
            {{"refs", "docker.io/library/app:1,registry.example.com/team/app:1"}});
  s.ev.logged.back().subject = "sha256:first-name-it-was-logged-under";
  s.measure("oci-bundle", "runc:4f1c", "config.json", false);  // report-only
  EXPECT_EQ(s.run(), std::set<std::string>{});
  EXPECT_TRUE(s.passedMeasurements);
  EXPECT_TRUE(s.passedImages);
}

TEST(PolicyStages, ImageOutcomes) {
  struct Case {
    std::string what;
    std::vector<ImageRule> rules;
    std::string refs;
    std::set<std::string> codes;
  };
  const Case cases[] = {
      {"no rule allows it", {}, "docker.io/library/app:1", {"image-not-allowed"}},
      {"denied digest beats an allowed prefix",
       {{1, ImageRuleKind::kAllowPrefix, "docker.io/library/app", 0, "t"},
        {2, ImageRuleKind::kDenyDigest, dig("app"), 0, "t"}},
       "docker.io/library/app:1",
       {"image-denied"}},
      {"allowed by digest without refs",
       {{1, ImageRuleKind::kAllowDigest, dig("app"), 0, "t"}},
       "",
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Stage s;
    s.policy = PolicySnapshot(1, {}, c.rules);
    std::map<std::string, std::string> attrs;
    if (!c.refs.empty()) attrs["refs"] = c.refs;
    s.measure("image", dig("app"), "app", true, attrs);
    EXPECT_EQ(s.run(), c.codes);
  }
}

TEST(PolicyStages, ContainerImagesByReferenceOrId) {
  struct Case {
    std::string image, digest;
    std::set<std::string> codes;
  };
  const Case cases[] = {
      {"nginx:1.25", "", {}},     // allowed prefix docker.io/library/nginx
      {dig("untagged"), "", {}},  // an image id is a digest: allowed by digest
      {dig("other"), "", {"image-not-allowed"}},
      {"registry.example.com/x:1", dig("untagged"), {}},  // digest rule
      {"nginx:1.25", dig("bad"), {"image-denied"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.image);
    Stage s;
    s.policy = PolicySnapshot(1, {},
                              {{1, ImageRuleKind::kAllowPrefix, "nginx", 0, "t"},
                               {2, ImageRuleKind::kAllowDigest, dig("untagged"), 0, "t"},
                               {3, ImageRuleKind::kDenyDigest, dig("bad"), 0, "t"}});
    auto* ct = s.ev.report.add_containers();
    ct->set_name("web");
    ct->set_image(c.image);
    ct->set_image_digest(c.digest);
    EXPECT_EQ(s.run(), c.codes);
  }
}

TEST(PolicyStages, ImageHistoryFailsOnlyOnDeny) {
  Stage s;
  s.policy = PolicySnapshot(1, {}, {{1, ImageRuleKind::kDenyDigest, dig("old-bad"), 0, "t"}});
  s.ev.logged.push_back(
      {"image", dig("old-unknown"), h("old-unknown")});  // ran earlier, not denied
  EXPECT_EQ(s.run(), std::set<std::string>{});
  s.ev.logged.push_back({"image", dig("old-bad"), h("old-bad")});
  EXPECT_EQ(s.run(), std::set<std::string>{"image-denied"});
}

TEST(PolicyStages, ReportedButNeverExtended) {
  Stage s;
  s.policy = PolicySnapshot(1, {approved("host-file", "/etc/os-release", "debian")}, {});
  s.measure("host-file", "/etc/os-release", "debian", false);
  s.measure("image", dig("img"), "img", false, {{"refs", "docker.io/library/img:1"}});
  EXPECT_EQ(s.run(), (std::set<std::string>{"measurement-not-in-log", "image-not-allowed"}));
  EXPECT_FALSE(s.passedMeasurements);
}

}  // namespace
}  // namespace bulwark::server
