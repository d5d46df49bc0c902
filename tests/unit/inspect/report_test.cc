#include "agent/inspect/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/inspect/inspect_test_util.h"

namespace bulwark::agent {
namespace {

ContainerResult result(const std::string& name, InspectionStatus status, int violations,
                       int accepted) {
  ContainerResult r;
  r.ref.id = name + "-id";
  r.ref.name = name;
  r.ref.image = "img";
  r.ref.runtime = "runc";
  r.ref.pid = 7;
  r.status = status;
  if (status != InspectionStatus::kInspected) r.error = "why";
  for (int i = 0; i < violations; ++i) {
    Finding f{"host-pid-namespace", "high", "pid namespace is the host's", {"CIS-Docker-1.6:5.15"}};
    r.violations.push_back(f);
    r.findings.push_back(f);
  }
  for (int i = 0; i < accepted; ++i) {
    Finding f{"rootfs-writable", "medium", "/ is rw", {"CIS-Docker-1.6:5.12"}};
    r.accepted.push_back({f, "profile 'baseline' does not require a read-only root file system"});
    r.findings.push_back(f);
  }
  r.seccomp_mode = SeccompMode::kDisabled;
  return r;
}

TEST(Report, OutcomeTable) {
  struct Case {
    const char* what;
    std::vector<ContainerResult> containers;
    bool selection_failed;
    RunOutcome want;
  } cases[] = {
      {"nothing running", {}, false, RunOutcome::kClean},
      {"only accepted",
       {result("a", InspectionStatus::kInspected, 0, 2)},
       false,
       RunOutcome::kClean},
      {"violation",
       {result("a", InspectionStatus::kInspected, 1, 0)},
       false,
       RunOutcome::kViolations},
      {"exited is not an error",
       {result("a", InspectionStatus::kExited, 0, 0)},
       false,
       RunOutcome::kClean},
      {"error wins over violations",
       {result("a", InspectionStatus::kInspected, 1, 0),
        result("b", InspectionStatus::kError, 0, 0)},
       false,
       RunOutcome::kIncomplete},
      {"selection not found",
       {result("a", InspectionStatus::kInspected, 1, 0)},
       true,
       RunOutcome::kIncomplete},
  };
  for (const Case& c : cases) {
    InspectionRun run;
    run.containers = c.containers;
    run.selection_failed = c.selection_failed;
    EXPECT_EQ(runOutcome(run), c.want) << c.what;
  }
}

TEST(Report, JsonShapeAndTable) {
  InspectionRun run;
  run.containers = {result("a", InspectionStatus::kInspected, 1, 1),
                    result("b", InspectionStatus::kExited, 0, 0)};
  run.problems = {"container 'x': not found"};
  IsolationProfile profile;
  profile.name = "baseline";
  const nlohmann::json j = runToJson(run, profile);
  EXPECT_EQ(j["profile"], "baseline");
  ASSERT_EQ(j["containers"].size(), 2u);
  const auto& a = j["containers"][0];
  for (const char* key :
       {"id", "name", "image", "pid", "runtime", "findings", "seccomp", "status"}) {
    EXPECT_TRUE(a.contains(key)) << key;
  }
  ASSERT_EQ(a["findings"].size(), 1u);
  EXPECT_EQ(a["findings"][0]["control"], "host-pid-namespace");
  EXPECT_EQ(a["findings"][0]["refs"][0], "CIS-Docker-1.6:5.15");
  EXPECT_EQ(a["accepted"][0]["reason"],
            "profile 'baseline' does not require a read-only root file system");
  EXPECT_EQ(a["seccomp"]["mode"], "disabled");
  EXPECT_EQ(j["containers"][1]["status"], "exited");
  EXPECT_EQ(j["containers"][1]["error"], "why");
  EXPECT_EQ(j["problems"][0], "container 'x': not found");
  const std::string table = runToTable(run, profile);
  EXPECT_NE(table.find("host-pid-namespace"), std::string::npos);
  EXPECT_NE(table.find("1 violation(s), 1 accepted"), std::string::npos);
  EXPECT_NE(table.find("problem: container 'x'"), std::string::npos);
}

TEST(Report, EvidenceCarriesEveryFindingAndSkipsExited) {
  InspectionRun run;
  run.containers = {result("a", InspectionStatus::kInspected, 1, 1),
                    result("b", InspectionStatus::kExited, 0, 0)};
  const auto reports = toContainerReports(run);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].name(), "a");
  EXPECT_EQ(reports[0].pid(), 7);
  ASSERT_EQ(reports[0].findings_size(), 2);  // violation and accepted: the verifier judges
  EXPECT_EQ(reports[0].findings(1).control(), "rootfs-writable");
  EXPECT_EQ(reports[0].seccomp().mode(), 0u);
}

}  // namespace
}  // namespace bulwark::agent
