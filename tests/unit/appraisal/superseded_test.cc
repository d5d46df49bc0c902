// Superseded measurement entries (docs/verifier.md "Superseded entries"): a file measured
// with digest A and later in the same boot with digest B. Only the current digest needs
// a fleet reference value; an earlier unknown one fails with its own code unless an
// operator acknowledged it for this very node (node re-approval).
#include <gtest/gtest.h>

#include "attest/core/digest.h"
#include "server/appraisal/pipeline.h"

namespace bulwark::server {
namespace {

constexpr std::string_view kRunc = "/usr/bin/runc";
Bytes h(std::string_view s) { return sha256(asBytes(s)); }

ReferenceValue value(std::string_view content, ReferenceState state) {
  ReferenceValue v;
  v.kind = "runtime-binary";
  v.subject = std::string(kRunc);
  v.sha256 = h(content);
  v.source = "manual";
  v.state = state;
  return v;
}

MeasurementAcknowledgment ack(std::string node, std::string_view content) {
  return {std::move(node), "runtime-binary", std::string(kRunc), h(content), 5, "root"};
}

struct Outcome {
  bool passed = false;
  std::vector<Reason> failures, events;
};

// runc logged with each digest of `history` in order (its last is the current one).
Outcome judge(const std::vector<std::string>& history, std::vector<ReferenceValue> values,
              const std::vector<MeasurementAcknowledgment>& acks,
              const std::vector<std::string>& reported = {}) {
  ParsedEvidence ev;
  ev.report.set_node("node-a");
  for (const std::string& d : history)
    ev.logged.push_back({"runtime-binary", std::string(kRunc), h(d)});
  for (const std::string& d : reported) {
    ev.measurements.push_back({"runtime-binary", std::string(kRunc), h(d)});
  }
  PolicySnapshot policy(1, values, {});
  IsolationProfile profile;
  PipelineInput in;
  in.evidence = &ev;
  in.policy = &policy;
  in.profile = &profile;
  in.acknowledged = &acks;
  CheckLedger ledger;
  checkMeasurements(ledger, in);
  Outcome o;
  o.passed = ledger.passed(Check::kMeasurements);
  for (const Reason& r : ledger.reasons()) {
    (r.kind == ReasonKind::kEvent ? o.events : o.failures).push_back(r);
  }
  return o;
}

std::vector<std::string> codes(const std::vector<Reason>& reasons) {
  std::vector<std::string> out;
  for (const Reason& r : reasons) out.push_back(r.code);
  return out;
}

TEST(Superseded, Outcomes) {
  using V = std::vector<std::string>;
  const ReferenceValue orig = value("orig", ReferenceState::kApproved);
  struct Case {
    std::string what;
    V history;
    std::vector<ReferenceValue> values;
    std::vector<MeasurementAcknowledgment> acks;
    V reported;
    V failures, events;
  };
  const Case cases[] = {
      {"tampered then restored",
       {"evil", "orig"},
       {orig},
       {},
       {},
       {"measurement-superseded-unknown"},
       {}},
      {"acknowledged for this node",
       {"evil", "orig"},
       {orig},
       {ack("node-a", "evil")},
       {},
       {},
       {"measurement-superseded-acknowledged"}},
      {"acknowledged for another node",
       {"evil", "orig"},
       {orig},
       {ack("node-b", "evil")},
       {},
       {"measurement-superseded-unknown"},
       {}},
      {"approved superseded entry",
       {"old", "orig"},
       {orig, value("old", ReferenceState::kApproved)},
       {},
       {},
       {},
       {}},
      {"current unknown digest is never forgiven",
       {"orig", "evil"},
       {orig},
       {ack("node-a", "evil")},
       {},
       {"measurement-unknown"},
       {}},
      {"restored twice: the first digest is current again",
       {"orig", "evil", "orig"},
       {orig},
       {},
       {},
       {"measurement-superseded-unknown"},
       {}},
      {"the report lists every digest it measured (both)",
       {"evil", "orig"},
       {orig},
       {ack("node-a", "evil")},
       {"evil", "orig"},
       {},
       {"measurement-superseded-acknowledged"}},
      {"a reported digest that was never logged",
       {"evil", "orig"},
       {orig},
       {ack("node-a", "evil")},
       {"other"},
       {"measurement-not-in-log", "measurement-unknown"},
       {"measurement-superseded-acknowledged"}},
      {"nothing superseded", {"orig", "orig"}, {orig}, {}, {}, {}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Outcome o = judge(c.history, c.values, c.acks, c.reported);
    EXPECT_EQ(codes(o.failures), c.failures);
    EXPECT_EQ(codes(o.events), c.events);
    EXPECT_EQ(o.passed, c.failures.empty());
  }
}

TEST(Superseded, FailureSaysWhatHappenedAndWhatToDo) {
  const ReferenceValue orig = value("orig", ReferenceState::kApproved);
  Outcome o = judge({"evil", "orig"}, {orig}, {});
  ASSERT_EQ(o.failures.size(), 1u);
  // Same claim and value as measurement-unknown: an unrecognized runtime ran.
  EXPECT_EQ(o.failures[0].claim, attest::TrustClaim::kExecutables);
  EXPECT_EQ(o.failures[0].value, attest::ar4si::executables::kUnrecognizedRuntime);
  EXPECT_EQ(o.failures[0].detail,
            "runtime-binary /usr/bin/runc was sha256:" + toHex(h("evil")) +
                " earlier this boot, now sha256:" + toHex(h("orig")) +
                ": a modified file was measured; after investigating, `bulwarkctl approve "
                "node-a` accepts this history for this node");
  // A revoked-only earlier digest keeps the revoked value (contraindicated).
  Outcome r = judge({"old", "orig"}, {orig, value("old", ReferenceState::kRevoked)}, {});
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].code, "measurement-superseded-unknown");
  EXPECT_EQ(r.failures[0].value, attest::ar4si::executables::kContraindicatedRuntime);
}

TEST(Superseded, AcknowledgedEventNamesWhoAccepted) {
  Outcome o =
      judge({"evil", "orig"}, {value("orig", ReferenceState::kApproved)}, {ack("node-a", "evil")});
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_NE(o.events[0].detail.find("was sha256:" + toHex(h("evil"))), std::string::npos);
  EXPECT_NE(o.events[0].detail.find("accepted for this node by root"), std::string::npos)
      << o.events[0].detail;
  EXPECT_TRUE(o.passed);
}

TEST(Superseded, ManyAcknowledgedEntriesYieldBoundedEvents) {
  ParsedEvidence ev;
  ev.report.set_node("node-a");
  std::vector<ReferenceValue> values;
  std::vector<MeasurementAcknowledgment> acks;
  const std::size_t n = kMaxReasonsPerCode + 7;
  for (std::size_t i = 0; i < n; ++i) {
    std::string path = "/usr/bin/tool" + std::to_string(i);
    ev.logged.push_back({"runtime-binary", path, h("evil" + path)});
    acks.push_back({"node-a", "runtime-binary", path, h("evil" + path), 5, "root"});
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::string path = "/usr/bin/tool" + std::to_string(i);
    ev.logged.push_back({"runtime-binary", path, h(path)});
    ReferenceValue v;
    v.kind = "runtime-binary";
    v.subject = path;
    v.sha256 = h(path);
    v.source = "manual";
    v.state = ReferenceState::kApproved;
    values.push_back(v);
  }
  PolicySnapshot policy(1, values, {});
  IsolationProfile profile;
  PipelineInput in;
  in.evidence = &ev;
  in.policy = &policy;
  in.profile = &profile;
  in.acknowledged = &acks;
  CheckLedger ledger;
  checkMeasurements(ledger, in);
  EXPECT_TRUE(ledger.passed(Check::kMeasurements));
  ASSERT_EQ(ledger.reasons().size(), kMaxReasonsPerCode + 1);
  EXPECT_EQ(ledger.reasons().back().detail, "... and 7 more");
}

TEST(Superseded, SupersededEntriesMapToTheirReplacement) {
  ParsedEvidence ev;
  ev.logged = {{"runtime-binary", "/a", h("1")},
               {"image", "img", h("i1")},
               {"runtime-binary", "/a", h("2")},
               {"image", "img", h("i2")},
               {"host-file", "/b", h("3")}};
  auto s = supersededEntries(ev);
  ASSERT_EQ(s.size(), 1u);  // images are judged by image rules, not here
  EXPECT_EQ(s.begin()->first, (MeasurementEntry{"runtime-binary", "/a", h("1")}));
  EXPECT_EQ(s.begin()->second, h("2"));
}

}  // namespace
}  // namespace bulwark::server
