// Pure policy lookups: reference values (several per subject, revocation), image rules
// (deny wins, digest, component-wise prefixes, Docker normalisation), isolation profiles.
#include "server/appraisal/policy.h"

#include <gtest/gtest.h>

#include "attest/core/digest.h"

namespace bulwark::server {
namespace {

Bytes h(std::string_view s) { return sha256(asBytes(s)); }

ReferenceValue value(std::string kind, std::string subject, std::string_view content,
                     ReferenceState state) {
  ReferenceValue v;
  v.kind = std::move(kind);
  v.subject = std::move(subject);
  v.sha256 = h(content);
  v.source = "manual";
  v.state = state;
  return v;
}

TEST(Policy, ReferenceValuesAllowSeveralVersionsAndRevocation) {
  PolicySnapshot p(7,
                   {value("runtime-binary", "/usr/bin/runc", "1.1.11", ReferenceState::kApproved),
                    value("runtime-binary", "/usr/bin/runc", "1.1.12", ReferenceState::kApproved),
                    value("runtime-binary", "/usr/bin/runc", "1.1.10", ReferenceState::kRevoked),
                    value("runtime-binary", "/usr/bin/runc", "1.2.0", ReferenceState::kPending)},
                   {});
  struct Case {
    std::string content;
    std::string kind;
    ReferenceMatch want;
  };
  const Case cases[] = {
      {"1.1.11", "runtime-binary", ReferenceMatch::kApproved},
      {"1.1.12", "runtime-binary", ReferenceMatch::kApproved},
      {"1.1.10", "runtime-binary", ReferenceMatch::kRevokedOnly},
      {"1.2.0", "runtime-binary", ReferenceMatch::kUnknown},  // pending vouches for nothing
      {"evil", "runtime-binary", ReferenceMatch::kUnknown},
      {"1.1.12", "host-file", ReferenceMatch::kUnknown},  // kind is part of the key
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content + " " + c.kind);
    EXPECT_EQ(p.match({c.kind, "/usr/bin/runc", h(c.content)}), c.want);
  }
  EXPECT_EQ(p.version(), 7);
  EXPECT_EQ(p.approvedCount(), 2u);
}

// Package imports (kind "file") vouch for a path in any file role; two versions of a
// package are valid at once; revoking one version leaves the other.
TEST(Policy, PackageFilesMatchEveryFileKind) {
  PolicySnapshot p(3,
                   {value("file", "/usr/sbin/runc", "1.1.5", ReferenceState::kApproved),
                    value("file", "/usr/sbin/runc", "1.1.12", ReferenceState::kApproved),
                    value("file", "/usr/sbin/runc", "1.1.4", ReferenceState::kRevoked),
                    value("runtime-binary", "/usr/sbin/runc", "1.1.4", ReferenceState::kApproved)},
                   {});
  struct Case {
    std::string kind, content;
    ReferenceMatch want;
  };
  const Case cases[] = {
      {"runtime-binary", "1.1.5", ReferenceMatch::kApproved},
      {"runtime-binary", "1.1.12", ReferenceMatch::kApproved},
      {"host-file", "1.1.5", ReferenceMatch::kApproved},
      {"runtime-process", "1.1.12", ReferenceMatch::kApproved},
      {"host-file", "1.1.4", ReferenceMatch::kRevokedOnly},      // only the revoked package value
      {"runtime-binary", "1.1.4", ReferenceMatch::kApproved},    // its own kind approves it
      {"kernel", "1.1.5", ReferenceMatch::kUnknown},             // not a file kind
      {"module", "1.1.5", ReferenceMatch::kUnknown},
      {"runtime-binary", "1.1.6", ReferenceMatch::kUnknown},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind + " " + c.content);
    EXPECT_EQ(p.match({c.kind, "/usr/sbin/runc", h(c.content)}), c.want);
  }
  EXPECT_EQ(p.match({"host-file", "/usr/bin/runc", h("1.1.5")}), ReferenceMatch::kUnknown);
}

TEST(Policy, ImageReferencesNormaliseLikeDocker) {
  const std::pair<const char*, const char*> cases[] = {
      {"nginx", "docker.io/library/nginx"},
      {"nginx:1.25", "docker.io/library/nginx:1.25"},
      {"team/app:1", "docker.io/team/app:1"},
      {"registry.example.com/team/app", "registry.example.com/team/app"},
      {"localhost/app", "localhost/app"},
      {"localhost:5000/app", "localhost:5000/app"},
      {"index.docker.io/library/busybox", "docker.io/library/busybox"},
  };
  for (auto [in, want] : cases) EXPECT_EQ(normalizeImageReference(in), want) << in;
}

TEST(Policy, ImageRules) {
  std::string bad = "sha256:" + toHex(h("bad"));
  std::string good = "sha256:" + toHex(h("good"));
  PolicySnapshot p(1, {},
                   {{1, ImageRuleKind::kAllowPrefix, "registry.example.com/team", 0, "t"},
                    {2, ImageRuleKind::kAllowDigest, good, 0, "t"},
                    {3, ImageRuleKind::kDenyDigest, bad, 0, "t"},
                    {4, ImageRuleKind::kAllowPrefix, "nginx", 0, "t"}});
  struct Case {
    std::string ref, digest;
    ImageDecision want;
  };
  const Case cases[] = {
      {"registry.example.com/team/app:1", "", ImageDecision::kAllowed},
      {"registry.example.com/team", "", ImageDecision::kAllowed},
      {"registry.example.com/teamx/app:1", "",
       ImageDecision::kNotAllowed},                                      // whole components only
      {"registry.example.com/team/app:1", bad, ImageDecision::kDenied},  // deny wins over prefix
      {"anything/else", good, ImageDecision::kAllowed},
      {"anything/else", "", ImageDecision::kNotAllowed},
      {"nginx:1.25", "", ImageDecision::kAllowed},  // docker.io/library/nginx prefix
      {"nginxx", "", ImageDecision::kNotAllowed},
      {"docker.io/library/nginx@" + good, "", ImageDecision::kAllowed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.ref + " " + c.digest);
    EXPECT_EQ(p.image(c.ref, c.digest).decision, c.want) << p.image(c.ref, c.digest).detail;
  }
  // No rules at all: default deny.
  EXPECT_EQ(PolicySnapshot().image("nginx", good).decision, ImageDecision::kNotAllowed);
}

TEST(Policy, IsolationProfiles) {
  IsolationProfile strict;  // default: high and critical violate
  IsolationProfile lax{"lab", {"privileged", "seccomp-allows:*"}, "critical"};
  struct Case {
    const IsolationProfile* profile;
    std::string control, severity;
    bool violates;
  };
  const Case cases[] = {
      {&strict, "privileged", "critical", true},
      {&strict, "host-network", "high", true},
      {&strict, "no-new-privileges-unset", "medium", false},
      {&strict, "odd", "unheard-of", true},  // unknown severity counts as critical
      {&lax, "privileged", "critical", false},
      {&lax, "seccomp-allows:bpf", "critical", false},
      {&lax, "host-pid-namespace", "critical", true},
      {&lax, "host-network", "high", false},  // below the lab's threshold
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.control + "/" + c.severity + " in " + c.profile->name);
    EXPECT_EQ(c.profile->violates(c.control, c.severity), c.violates);
  }
}

}  // namespace
}  // namespace bulwark::server
