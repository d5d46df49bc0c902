// The shipped data files (profiles/controls.json, profiles/isolation/*.json)
// load and say what docs/inspect.md says; the loaders reject each kind of
// mistake with the JSON path.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "agent/inspect/capabilities.h"
#include "agent/inspect/controls.h"
#include "agent/inspect/isolation_profile.h"
#include "tests/unit/inspect/inspect_test_util.h"

namespace bulwark::agent {
namespace {

using inspect_test::profilesDir;
using inspect_test::readText;
using nlohmann::json;

IsolationProfile loadProfile(const std::string& name) {
  auto p = resolveIsolationProfile(name, profilesDir());
  EXPECT_TRUE(p) << p.error().toString();
  return p ? *p : IsolationProfile{};
}

TEST(ControlCatalog, ShippedCatalogCoversEveryControl) {
  auto c = ControlCatalog::load(profilesDir() + "/controls.json");
  ASSERT_TRUE(c) << c.error().toString();
  for (const std::string& id : emittedControlIds()) {
    const bool param = id == "capability" || id == "seccomp-allows" || id == "sensitive-mount";
    const std::string full = param ? id + ":x" : id;
    ASSERT_NE(c->find(full), nullptr) << id;
    EXPECT_FALSE(c->refsOf(full).empty()) << id;
  }
  EXPECT_EQ(c->severityOf("capability:CAP_SYS_ADMIN"), "critical");
  EXPECT_EQ(c->severityOf("capability:CAP_SYSLOG"), "medium");
  EXPECT_EQ(c->severityOf("sensitive-mount:/var/run/docker.sock"), "critical");
  EXPECT_EQ(c->severityOf("host-pid-namespace"), "high");
  EXPECT_EQ(c->severityOf("no-such-control"), "high");  // unknown: never silenced
  EXPECT_EQ(c->refsOf("host-pid-namespace"),
            (std::vector<std::string>{"CIS-Docker-1.6:5.15", "NIST-800-190:4.4.3",
                                      "PSS:baseline:spec.hostPID"}));
  EXPECT_EQ(c->find("capability"), nullptr);  // parameterized control needs its parameter
  EXPECT_EQ(c->find("host-pid-namespace:x"), nullptr);
}

TEST(ControlCatalog, RejectsEachMistake) {
  const json good = json::parse(readText(profilesDir() + "/controls.json"));
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    const char* path;
  } cases[] = {
      {"wrong kind", [](json& d) { d["kind"] = "x"; }, "$.kind"},
      {"wrong version", [](json& d) { d["version"] = 2; }, "$.version"},
      {"unknown top key", [](json& d) { d["extra"] = 1; }, "unknown key 'extra'"},
      {"bad severity", [](json& d) { d["controls"][0]["severity"] = "severe"; },
       "$.controls[0].severity"},
      {"duplicate id", [](json& d) { d["controls"][1]["id"] = d["controls"][0]["id"]; },
       "listed twice"},
      {"missing control", [](json& d) { d["controls"].erase(0); },
       "host-pid-namespace' is missing"},
      {"bad id", [](json& d) { d["controls"][0]["id"] = "Host PID"; }, "$.controls[0].id"},
      {"no nist ref", [](json& d) { d["controls"][0]["refs"].erase("nist_800_190"); },
       "$.controls[0].refs"},
      {"bad cis ref", [](json& d) { d["controls"][0]["refs"]["cis_docker"] = "five"; },
       "cis_docker"},
      {"bad pss ref", [](json& d) { d["controls"][0]["refs"]["pss"] = "spec.hostPID"; }, ".pss"},
      {"override on plain control",
       [](json& d) {
         d["controls"][0]["severity_by_parameter"] = json{{"x", "low"}};
       },
       "only parameterized"},
      {"bad override",
       [](json& d) {
         for (auto& c : d["controls"]) {
           if (c["id"] == "capability") c["severity_by_parameter"]["CAP_BPF"] = "urgent";
         }
       },
       "CAP_BPF"},
  };
  for (const Case& c : cases) {
    json doc = good;
    c.edit(doc);
    auto r = ControlCatalog::parse(doc.dump());
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << c.what;
    EXPECT_NE(r.error().message().find(c.path), std::string::npos)
        << c.what << ": " << r.error().message();
  }
  EXPECT_FALSE(ControlCatalog::parse("{"));
  EXPECT_FALSE(ControlCatalog::parse("[]"));
}

TEST(IsolationProfile, ShippedProfilesModelPss) {
  const IsolationProfile baseline = loadProfile("baseline");
  const IsolationProfile restricted = loadProfile("restricted");
  EXPECT_EQ(baseline.name, "baseline");
  EXPECT_EQ(restricted.name, "restricted");
  // PSS baseline's allowed capability list (13), restricted: only NET_BIND_SERVICE.
  EXPECT_EQ(capabilityBits(baseline.allowed_capabilities).size(), 13u);
  EXPECT_EQ(restricted.allowed_capabilities, std::uint64_t{1} << 10);
  EXPECT_TRUE(restricted.run_as_non_root && restricted.require_no_new_privileges &&
              restricted.require_read_only_rootfs && restricted.require_resource_limits);
  EXPECT_FALSE(baseline.run_as_non_root || baseline.require_no_new_privileges);
}

// Lead's decision (docs/inspect.md "ptrace and pivot_root"): ptrace is medium in
// the seccomp baseline, so the baseline profile accepts it and restricted reports
// it; pivot_root stays high and both report it.
TEST(IsolationProfile, JudgementTable) {
  const IsolationProfile b = loadProfile("baseline");
  const IsolationProfile r = loadProfile("restricted");
  struct Case {
    const char* control;
    const char* severity;
    bool baseline_violation;
    bool restricted_violation;
  } cases[] = {
      {"seccomp-allows:ptrace", "medium", false, true},
      {"seccomp-allows:pivot_root", "high", true, true},
      {"seccomp-allows:kexec_load", "critical", true, true},
      {"seccomp-disabled", "high", true, true},
      {"host-pid-namespace", "high", true, true},
      {"host-network-namespace", "high", true, true},
      {"host-cgroup-namespace", "medium", false, true},
      {"host-uts-namespace", "medium", true, true},
      {"root-without-userns", "medium", false, true},
      {"no-new-privileges-off", "medium", false, true},
      {"lsm-unconfined", "medium", false, true},
      {"rootfs-writable", "medium", false, true},
      {"no-memory-limit", "low", false, true},
      {"no-pids-limit", "low", false, true},
      {"privileged", "critical", true, true},
      {"capability:CAP_SYS_ADMIN", "critical", true, true},
      {"capability:CAP_CHOWN", "medium", false, true},
      {"capability:CAP_NET_BIND_SERVICE", "medium", false, false},
      {"sensitive-mount:/var/run/docker.sock", "critical", true, true},
      {"inspection-incomplete", "high", true, true},
      {"made-up-control", "low", true, true},
  };
  for (const Case& c : cases) {
    const Judgement jb = judge(b, c.control, c.severity);
    const Judgement jr = judge(r, c.control, c.severity);
    EXPECT_EQ(jb.violation, c.baseline_violation) << "baseline " << c.control;
    EXPECT_EQ(jr.violation, c.restricted_violation) << "restricted " << c.control;
    EXPECT_EQ(jb.reason.empty(), jb.violation) << c.control;
  }
}

TEST(IsolationProfile, SiteAcceptsAndAllowedMounts) {
  IsolationProfile p = loadProfile("restricted");
  p.accept = {"seccomp-allows:*"};
  p.allowed_mounts = {"/srv/*.sock"};
  EXPECT_FALSE(judge(p, "seccomp-allows:bpf", "high").violation);
  EXPECT_FALSE(judge(p, "sensitive-mount:/srv/app.sock", "high").violation);
  EXPECT_TRUE(judge(p, "sensitive-mount:/var/run/docker.sock", "critical").violation);
}

TEST(IsolationProfile, RejectsEachMistake) {
  const json good = json::parse(readText(profilesDir() + "/isolation/baseline.json"));
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    const char* path;
  } cases[] = {
      {"wrong kind", [](json& d) { d["kind"] = "bulwark.seccomp.baseline"; }, "$.kind"},
      {"unknown key", [](json& d) { d["hostPID"] = true; }, "unknown key 'hostPID'"},
      {"missing key", [](json& d) { d.erase("require_lsm"); }, "missing key 'require_lsm'"},
      {"not a bool", [](json& d) { d["allow_privileged"] = "no"; }, "$.allow_privileged"},
      {"bad capability", [](json& d) { d["allowed_capabilities"][0] = "CAP_FLY"; },
       "$.allowed_capabilities[0]"},
      {"lower-case cap", [](json& d) { d["allowed_capabilities"][0] = "chown"; },
       "$.allowed_capabilities[0]"},
      {"duplicate cap", [](json& d) { d["allowed_capabilities"].push_back("CAP_CHOWN"); },
       "listed twice"},
      {"bad namespace", [](json& d) { d["allowed_host_namespaces"] = json{"user"}; },
       "$.allowed_host_namespaces[0]"},
      {"bad seccomp severity", [](json& d) { d["seccomp"]["min_severity"] = "none"; },
       "$.seccomp.min_severity"},
      {"seccomp extra", [](json& d) { d["seccomp"]["profile"] = "x"; }, "$.seccomp"},
      {"bad name", [](json& d) { d["name"] = "Base Line"; }, "$.name"},
      {"accept not strings", [](json& d) { d["accept"] = json{1}; }, "$.accept[0]"},
  };
  for (const Case& c : cases) {
    json doc = good;
    c.edit(doc);
    auto r = parseIsolationProfile(doc.dump());
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << c.what;
    EXPECT_NE(r.error().message().find(c.path), std::string::npos)
        << c.what << ": " << r.error().message();
  }
}

TEST(IsolationProfile, ResolveByNameOrPath) {
  EXPECT_TRUE(resolveIsolationProfile(profilesDir() + "/isolation/restricted.json", "/nowhere"));
  auto missing = resolveIsolationProfile("nope", profilesDir());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto bad = resolveIsolationProfile("../etc", profilesDir());
  ASSERT_FALSE(bad);
  auto weird = resolveIsolationProfile("Bad Name", profilesDir());
  ASSERT_FALSE(weird);
  EXPECT_EQ(weird.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Capabilities, NamesAndMasks) {
  EXPECT_EQ(capabilityName(21), "CAP_SYS_ADMIN");
  EXPECT_EQ(capabilityName(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(capabilityName(45), "CAP_45");
  EXPECT_EQ(capabilityFromName("sys_admin"), 21);
  EXPECT_EQ(capabilityFromName("CAP_BPF"), 39);
  EXPECT_FALSE(capabilityFromName("CAP_FLY"));
  EXPECT_EQ(capabilityBits(0x20000420u), (std::vector<int>{5, 10, 29}));
  EXPECT_EQ(allCapabilitiesMask(40), 0x1ffffffffffu);
  EXPECT_EQ(allCapabilitiesMask(63), ~std::uint64_t{0});
}

}  // namespace
}  // namespace bulwark::agent
