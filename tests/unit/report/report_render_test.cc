// Report model and rendering: escaping of every agent-supplied string, control mapping
// (profiles/controls.json + AR4SI claims), SVG timeline geometry, evidence summary.
#include <gtest/gtest.h>

#include "attest/cel/bulwark_content.h"

#include <set>

#include "server/report/controls.h"
#include "server/report/html.h"
#include "server/report/html_escape.h"
#include "server/report/timeline.h"
#include "tests/unit/report/report_test_data.h"

namespace bulwark::server::report::test {
namespace {
using nlohmann::json;

TEST(ReportHtmlEscape, Table) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"plain", "plain"},
      {"<b>", "&lt;b&gt;"},
      {"a&b", "a&amp;b"},
      {"\"q\" 'a'", "&quot;q&quot; &#39;a&#39;"},
      {"&amp;", "&amp;amp;"},
      {std::string("nul\0x", 5), "nul\xEF\xBF\xBDx"},
      {"tab\tnl\n", "tab\tnl\n"},
      {"\x1b[31m", "\xEF\xBF\xBD[31m"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
  };
  for (const Case& c : cases) EXPECT_EQ(htmlEscape(c.in), c.out) << c.in;
  EXPECT_EQ(urlSegment("node-a.b_c~"), "node-a.b_c~");
  EXPECT_EQ(urlSegment("a/b c\"<"), "a%2Fb%20c%22%3C");
}

TEST(ReportUtcTime, Table) {
  EXPECT_EQ(utcTime(kT0), "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(utcTime(kT0 + 1234), "2024-05-01T12:00:01.234Z");
  EXPECT_EQ(utcTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(utcTime(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ReportControls, EveryCatalogControlWithReferences) {
  std::string text(embeddedControlsJson());
  json catalog = json::parse(text);
  auto parsed = parseIsolationControls(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  ASSERT_EQ(parsed->size(), catalog["controls"].size());
  std::set<std::string> ids;
  for (const Control& c : reportControls()) ids.insert(c.id);
  for (const json& c : catalog["controls"]) {
    EXPECT_TRUE(ids.count(c["id"])) << c["id"];
  }
  for (const Control& c : reportControls()) {
    EXPECT_FALSE(c.refs.nist_800_190.empty()) << c.id << " has no NIST SP 800-190 reference";
  }
  const Control* pid = nullptr;
  for (const Control& c : reportControls()) pid = c.id == "host-pid-namespace" ? &c : pid;
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(pid->refs.cis_docker, "5.15");
  EXPECT_EQ(pid->refs.nist_800_190, "4.4.3");
}

TEST(ReportControls, MalformedCatalogsAreErrors) {
  for (std::string bad :
       {"", "[]", R"({"kind":"x","version":1,"controls":[]})",
        R"({"kind":"bulwark.inspect.controls","version":2,"controls":[]})",
        R"({"kind":"bulwark.inspect.controls","version":1,"controls":[{"id":"a"}]})",
        R"({"kind":"bulwark.inspect.controls","version":1,"controls":[{"id":"a","refs":{}}]})"}) {
    EXPECT_FALSE(parseIsolationControls(bad).has_value()) << bad;
  }
}

const json& control(const json& report, const std::string& id) {
  static const json kNone;
  for (const json& c : report["controls"]) {
    if (c["id"] == id) return c;
  }
  ADD_FAILURE() << "no control " << id;
  return kNone;
}

TEST(ReportNodeReport, ControlStatusFromVerdictAndFindings) {
  json r = nodeReport(hostileInput());
  struct Case {
    const char* id;
    const char* status;
  } cases[] = {
      {"attestation:instance-identity", "pass"},
      {"attestation:file-system", "fail"},
      {"attestation:configuration", "fail"},
      {"attestation:runtime-opaque", "not-evaluated"},
      {"privileged", "fail"},
      {"rootfs-writable", "pass"},
      {"host-pid-namespace", "pass"},
      {"made-up-control", "pass"},
  };
  // runtime-opaque is not an attestation control Bulwark appraises: absent from the table.
  for (const Case& c : cases) {
    if (std::string(c.id) == "attestation:runtime-opaque") continue;
    EXPECT_EQ(control(r, c.id)["status"], c.status) << c.id;
  }
  EXPECT_EQ(control(r, "attestation:file-system")["reasons"], json::array({"unknown-file"}));
  EXPECT_EQ(control(r, "privileged")["violations"], 1);
  EXPECT_EQ(control(r, "privileged")["refs"]["cis_docker"], "5.4");
  EXPECT_EQ(control(r, "rootfs-writable")["accepted"], 1);
  EXPECT_EQ(control(r, "made-up-control")["title"], "not in the control catalog");
  // No containers in the evidence: isolation controls were not evaluated.
  json empty = nodeReport(hostileInput(0));
  EXPECT_EQ(control(empty, "host-pid-namespace")["status"], "not-evaluated");
  EXPECT_EQ(control(empty, "host-pid-namespace")["note"], "no containers were running");
  // No verdict at all: nothing passes.
  NodeReportInput none = hostileInput();
  none.latest.reset();
  none.evidence.reset();
  json nr = nodeReport(none);
  for (const json& c : nr["controls"]) EXPECT_EQ(c["status"], "not-evaluated") << c["id"];
  EXPECT_TRUE(nr["verdict"].is_null());
}

TEST(ReportNodeReport, StateTimelineAndEvidence) {
  NodeReportInput in = hostileInput();
  json r = nodeReport(in);
  EXPECT_EQ(r["kind"], kNodeReportKind);
  EXPECT_EQ(r["node"]["state"], "untrusted");
  ASSERT_EQ(r["timeline"].size(), 3u);
  EXPECT_EQ(r["timeline"][0]["appraisal_id"], 1);  // oldest first
  EXPECT_EQ(r["timeline"][2]["ear_sha256"], earDigest("ear-token-3"));
  EXPECT_EQ(r["verdict"]["status"], "contraindicated");
  EXPECT_EQ(r["failures"].size(), 2u);
  EXPECT_EQ(r["events"].size(), 1u);
  EXPECT_EQ(r["findings"].size(), 3u);
  const json& e = r["evidence"];
  // Distinct (kind, subject): the two runtime-binary entries name one binary.
  EXPECT_EQ(e["measurements"], 2);
  EXPECT_EQ(e["measurements_by_kind"]["runtime-binary"], 1);
  EXPECT_EQ(e["pcr_banks"][0]["hash_alg"], "sha256");
  EXPECT_EQ(e["pcr_banks"][0]["pcrs"], json::array({0, 7, 15}));
  EXPECT_EQ(e["containers"], 2);
  EXPECT_EQ(e["tpm"]["reset_count"], 3);
  EXPECT_EQ(e["host"]["hostname"], std::string(kHostile));
  // A trusted node is stale once `now` reaches the deadline of its verdict.
  in.node.state = NodeState::kTrusted;
  in.now = in.latest->fresh_until;
  EXPECT_EQ(nodeReport(in)["node"]["state"], "stale");
  in.now = in.latest->fresh_until - 1;
  EXPECT_EQ(nodeReport(in)["node"]["state"], "trusted");
  // Evidence bytes that do not decode are reported, not fatal.
  in.evidence->bytes = Bytes{0xff, 0xff, 0xff};
  EXPECT_TRUE(nodeReport(in)["evidence"].contains("error"));
}

// No string from an agent or the store reaches the page unescaped.
TEST(ReportNodePage, HostileStringsAreEscapedAndNoScript) {
  std::string html = renderNodePage(nodeReport(hostileInput()));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find(htmlEscape(kHostile)), std::string::npos);
  EXPECT_NE(html.find("NIST SP 800-190 4.4.3"), std::string::npos);
  EXPECT_NE(html.find("CIS Docker 5.4"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  for (std::string_view external : {"src=\"http", "href=\"http", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

TEST(ReportFleetPage, CountsLinksAndEscaping) {
  FleetReportInput in;
  in.now = kT0 + 1000;
  NodeSummary a{"node-a", NodeState::kTrusted, "g<1>", kT0, kT0, kT0};
  NodeSummary b{"node-b", NodeState::kTrusted, "", kT0, kT0, kT0};
  NodeSummary c{"node-c", NodeState::kEnrolling, "", kT0, std::nullopt, kT0};
  AppraisalSummary fresh{7,          kT0, AppraisalStatus::kAffirming, hostileReasons().dump(),
                         kT0 + 5000, 3};
  AppraisalSummary old{8, kT0 - 9000, AppraisalStatus::kAffirming, "[]", kT0 - 1, 3};
  in.fleet = {{a, fresh}, {b, old}, {c, std::nullopt}};
  json r = fleetReport(in);
  EXPECT_EQ(r["counts"]["trusted"], 1);
  EXPECT_EQ(r["counts"]["stale"], 1);
  EXPECT_EQ(r["counts"]["enrolling"], 1);
  EXPECT_EQ(r["counts"]["revoked"], 0);
  EXPECT_EQ(r["nodes"][0]["findings"], 3);
  EXPECT_EQ(r["nodes"][0]["violations"], 1);
  EXPECT_EQ(r["nodes"][0]["failures"], 2);
  EXPECT_TRUE(r["nodes"][2]["last_attestation"].is_null());
  std::string html = renderFleetPage(r);
  EXPECT_NE(html.find("href=\"/reports/nodes/node-b\""), std::string::npos);
  EXPECT_NE(html.find("g&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(ReportTimeline, PointsOnLanesAndAxis) {
  json r = nodeReport(hostileInput());
  TimelineGeometry g;  // 760 x 150, plot from x=120 to x=750
  auto points = timelinePoints(r["timeline"], kT0 + 180000, g);
  ASSERT_EQ(points.size(), 3u);
  // Axis: first appraisal (kT0) .. max(now, last deadline = kT0 + 720000).
  double w = g.width - g.left - g.right;
  struct Case {
    std::int64_t id;
    const char* lane;
    double x, end;
  } cases[] = {
      {1, "affirming", g.left, g.left + w * 60000 / 720000},  // cut by the next appraisal
      {2, "warning", g.left + w * 60000 / 720000, g.left + w * 120000 / 720000},
      {3, "contraindicated", g.left + w * 120000 / 720000, g.left + w},
  };
  double lane_h = (g.height - g.top - g.bottom) / 4;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(points[i].appraisal_id, cases[i].id);
    EXPECT_EQ(points[i].status, cases[i].lane);
    EXPECT_NEAR(points[i].x, cases[i].x, 1e-6);
    EXPECT_NEAR(points[i].fresh_x_end, cases[i].end, 1e-6);
  }
  EXPECT_NEAR(points[0].y, g.top + lane_h * 0.5, 1e-6);
  EXPECT_NEAR(points[1].y, g.top + lane_h * 1.5, 1e-6);
  EXPECT_NEAR(points[2].y, g.top + lane_h * 2.5, 1e-6);
  // Unknown statuses sit in the "none" lane; junk entries are skipped.
  json odd = json::array(
      {{{"appraised_at_unix_ms", kT0}, {"fresh_until_unix_ms", kT0 + 10}, {"status", "bogus"}},
       "junk",
       {{"appraised_at_unix_ms", "x"}}});
  auto p = timelinePoints(odd, kT0 + 10, g);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NEAR(p[0].y, g.top + lane_h * 3.5, 1e-6);
  EXPECT_TRUE(timelinePoints(json::array(), kT0).empty());
  std::string svg = timelineSvg(r["timeline"], kT0 + 180000);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("<circle cx=\"120.0\""), std::string::npos) << svg;
}


// A log shipped incrementally (docs/api.md "Incremental logs") is counted with the
// verifier's copy it continues, not only the bytes of the last report.
TEST(ReportNodeReport, IncrementalLogsAreCountedWithTheVerifiersCopy) {
  auto record = [](const std::string& subject) {
    attest::BatchEntry e{"host-file", subject, sha256(asBytes(subject))};
    nlohmann::json content = attest::makeBatchContent(std::span(&e, 1));
    HashAlg banks[] = {HashAlg::kSha256};
    return attest::formatCelRecord(15, *attest::bulwarkDigests(content, banks),
                                   attest::kBulwarkContentType,
                                   *attest::canonicalContent(content));
  };
  std::string copy = record("/etc/a") + record("/etc/b");
  NodeReportInput in = hostileInput();
  bulwark::v1::Evidence ev;
  ASSERT_TRUE(ev.ParseFromArray(in.evidence->bytes.data(), static_cast<int>(in.evidence->bytes.size())));
  bulwark::v1::Report r;
  ASSERT_TRUE(r.ParseFromString(ev.report()));
  auto* log = r.mutable_logs(0);
  log->set_offset(copy.size());
  log->set_entries_before(2);
  log->set_content(record("/etc/c"));
  ev.set_report(r.SerializeAsString());
  std::string bytes = ev.SerializeAsString();
  in.evidence->bytes.assign(bytes.begin(), bytes.end());
  LogCopy c;
  c.source = log->source();
  c.content = copy + log->content();  // the copy has already grown by this report
  c.bytes = static_cast<std::int64_t>(c.content.size());
  in.log_copy = c;
  const json e = nodeReport(in)["evidence"];
  EXPECT_EQ(e["measurements_by_kind"]["host-file"], 4);  // /usr/bin/runc, /etc/a, b, c
  in.log_copy.reset();  // without the copy the log is not counted at all, never in part
  EXPECT_EQ(nodeReport(in)["evidence"]["measurements_by_kind"]["host-file"], 1);
}

}  // namespace
}  // namespace bulwark::server::report::test
