// Container isolation inspection against containers of a REAL dockerd (Debian
// docker.io, vfs, no bridge; tests/support/dockerd.h), discovered over the
// Docker Engine API as the agent does in production (issue 4): a hardened
// container shows none of the hardening controls, a privileged-equivalent one
// (all capabilities, seccomp unconfined — `--privileged` itself cannot start in
// this sandbox) shows each of them, host namespaces and sensitive mounts are
// found, and the attestation cycle's InspectingSource puts every container's
// findings into the Evidence it collects.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <memory>
#include <set>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/cycle/inspection_source.h"
#include "agent/inspect/docker_engine.h"
#include "agent/inspect/inspector.h"
#include "agent/inspect/report.h"
#include "agent/inspect/runtime_state.h"
#include "tests/support/dockerd.h"
#include "tests/support/suite_resource.h"

namespace bulwark::agent {
namespace {

using testing::Dockerd;
using Set = std::set<std::string>;

std::string profilesDirForTests() {
  const char* d = std::getenv("BULWARK_SOURCE_DIR");
  return std::string(d != nullptr ? d : ".") + "/profiles";
}

Set controlsOf(const ContainerResult& r) {
  Set out;
  for (const Finding& f : r.findings) out.insert(f.control);
  return out;
}

std::string join(const Set& s) {
  std::string out;
  for (const auto& e : s) out += (out.empty() ? "" : ", ") + e;
  return "{" + out + "}";
}

// The controls hardening flags switch off; none may appear for the hardened one
// and each must appear for the privileged-equivalent one.
const Set kHardeningControls = {"seccomp-disabled",      "privileged",      "no-new-privileges-off",
                                "rootfs-writable",       "no-memory-limit", "no-pids-limit",
                                "root-without-userns",   "capability:CAP_SYS_ADMIN",
                                "capability:CAP_SYS_MODULE", "capability:CAP_NET_ADMIN"};

// A source with nothing of its own: isolates what InspectingSource adds.
class EmptySource final : public MeasurementSource {
 public:
  Result<Collected> collect(std::uint32_t) override { return Collected{}; }
};

class InspectDocker : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dockerd_.start(Dockerd::start());
    if (!dockerd_) return;
    auto id = dockerd_->importBusybox("bulwark-busybox:inspect");
    if (id) {
      image_id_ = *id;
    } else {
      dockerd_.fail(id.error().toString());
    }
  }
  static void TearDownTestSuite() { dockerd_.stop(); }
  void SetUp() override {
    // Not a skip: dockerd runs on every machine this suite is meant for.
    ASSERT_TRUE(dockerd_) << "dockerd harness failed: " << dockerd_.error();
    auto cfg = loadInspectorConfig(profilesDirForTests(), "baseline");
    ASSERT_TRUE(cfg) << cfg.error().toString();
    inspector_ = std::make_unique<Inspector>(std::move(*cfg), dumper_);
  }
  void TearDown() override {
    if (dockerd_) dockerd_->removeAllContainers();
  }

  static void run(const std::string& name, const std::string& flags) {
    auto r = dockerd_->docker("run -d --name " + name + " " + flags +
                              " bulwark-busybox:inspect sleep 1000");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  // Inspects through the Docker Engine API only (the agent's primary source).
  ContainerResult inspect(const std::string& name) {
    DockerEngineRuntime docker(dockerd_->socket());
    const InspectionRun run = inspector_->run({&docker}, {name});
    EXPECT_TRUE(run.problems.empty()) << run.problems.front();
    EXPECT_EQ(run.containers.size(), 1u);
    return run.containers.empty() ? ContainerResult{} : run.containers.front();
  }

  static inline testing::SuiteResource<Dockerd> dockerd_;
  static inline std::string image_id_;
  PtraceSeccompDumper dumper_;
  std::unique_ptr<Inspector> inspector_;
};

constexpr const char* kHardened =
    "--network none --read-only --cap-drop ALL --security-opt no-new-privileges "
    "--memory 64m --pids-limit 64 --user 1000:1000 --cgroupns private";

// Docker's default cgroup namespace mode is "host" on cgroup v1 (and hybrid)
// hosts and "private" on cgroup v2: a default container on v1 shares it.
bool dockerDefaultSharesCgroupNamespace() {
  return !std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers");
}
// `--privileged` cannot start here (the sandbox withholds CAP_SYS_RESOURCE).
constexpr const char* kPrivilegedEquivalent =
    "--network none --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined "
    "--security-opt apparmor=unconfined";

// Docker's default seccomp profile (tests/testdata/seccomp/docker-default.json)
// with one more syscall allowed unconditionally.
Result<std::string> dockerDefaultProfileWith(const std::string& syscall) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  std::ifstream in(std::string(src != nullptr ? src : ".") +
                   "/tests/testdata/seccomp/docker-default.json");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("syscalls")) {
    return fail(ErrorCode::kMalformed, "docker-default.json unreadable");
  }
  j["syscalls"].push_back({{"names", {syscall}}, {"action", "SCMP_ACT_ALLOW"}});
  return j.dump();
}

TEST_F(InspectDocker, HardenedContainerShowsNoHardeningControl) {
  run("hardened", kHardened);
  const ContainerResult r = inspect("hardened");
  ASSERT_EQ(r.status, InspectionStatus::kInspected) << r.error;
  EXPECT_EQ(r.ref.runtime, "docker");
  EXPECT_EQ(r.ref.name, "hardened");
  EXPECT_NE(r.ref.image.find("bulwark-busybox"), std::string::npos) << r.ref.image;
  EXPECT_EQ(r.ref.image_digest, image_id_);  // the verifier's image rules match digests
  const Set got = controlsOf(r);
  for (const std::string& c : kHardeningControls) EXPECT_EQ(got.count(c), 0u) << c;
  for (const std::string& c : got) EXPECT_NE(c.rfind("capability:", 0), 0u) << c;
  for (const std::string& c : got) EXPECT_NE(c.rfind("host-", 0), 0u) << c;
}

// The default container: no namespace or seccomp finding beyond what Docker's
// default filter is known to allow (ptrace, kernels >= 4.8), and that filter,
// dumped from the kernel, denies the rest of the baseline.
TEST_F(InspectDocker, DefaultContainerFilterDeniesTheBaseline) {
  run("default", "--network none");
  const ContainerResult r = inspect("default");
  ASSERT_EQ(r.status, InspectionStatus::kInspected) << r.error;
  for (const std::string& c : controlsOf(r)) {
    if (c == "host-cgroup-namespace" && dockerDefaultSharesCgroupNamespace()) continue;
    EXPECT_NE(c.rfind("host-", 0), 0u) << c;
    if (c.rfind("seccomp-", 0) == 0) {
      EXPECT_EQ(c, "seccomp-allows:ptrace");
    }
  }
  ASSERT_TRUE(r.seccomp_mode);
  EXPECT_EQ(*r.seccomp_mode, SeccompMode::kFilter);
  EXPECT_GE(r.seccomp_filters, 1u);
  ASSERT_NE(r.seccomp_policy, nullptr);
  const ArchPolicy* x86_64 = r.seccomp_policy->find("x86_64");
  ASSERT_NE(x86_64, nullptr);
  std::size_t checked = 0;
  for (const BaselineEntry& rule : inspector_->config().baseline.deny) {
    if (rule.syscall == "ptrace") continue;
    const SyscallPolicy* sp = x86_64->find(rule.syscall);
    if (sp == nullptr) continue;  // not a syscall of this architecture
    EXPECT_FALSE(sp->mayRun()) << rule.syscall << " allowed by Docker's default filter";
    ++checked;
  }
  EXPECT_GE(checked, 20u);
}

// Each variation of the default container adds (and removes) exactly these.
struct Variation {
  std::string name;
  std::string flags;
  Set added;
  Set removed;
};

TEST_F(InspectDocker, EachVariationYieldsExactlyItsFindings) {
  run("base", "--network none");
  const ContainerResult base_result = inspect("base");
  ASSERT_EQ(base_result.status, InspectionStatus::kInspected) << base_result.error;
  const Set base = controlsOf(base_result);
  ASSERT_EQ(base.count("rootfs-writable"), 1u) << join(base);
  const bool ptrace_allowed = base.count("seccomp-allows:ptrace") == 1;

  const std::string allow_mount = dockerd_->dir() + "/allow-mount.json";
  {
    auto profile = dockerDefaultProfileWith("mount");
    ASSERT_TRUE(profile) << profile.error().toString();
    std::ofstream(allow_mount) << *profile;
  }
  Set unconfined_removed;
  if (ptrace_allowed) unconfined_removed.insert("seccomp-allows:ptrace");
  const std::vector<Variation> variations = {
      {"seccomp-off", "--security-opt seccomp=unconfined", {"seccomp-disabled"}, unconfined_removed},
      {"pid-host", "--pid host", {"host-pid-namespace"}, {}},
      {"ipc-host", "--ipc host", {"host-ipc-namespace"}, {}},
      {"uts-host", "--uts host", {"host-uts-namespace"}, {}},
      // Docker's default profile unlocks these baseline syscalls for CAP_SYS_ADMIN.
      {"sys-admin",
       "--cap-add SYS_ADMIN",
       {"capability:CAP_SYS_ADMIN", "seccomp-allows:mount", "seccomp-allows:umount2",
        "seccomp-allows:unshare", "seccomp-allows:setns", "seccomp-allows:bpf",
        "seccomp-allows:perf_event_open"},
       {}},
      {"docker-sock", "-v " + dockerd_->socket() + ":/var/run/docker.sock",
       {"sensitive-mount:" + dockerd_->socket()}, {}},
      {"read-only", "--read-only", {}, {"rootfs-writable"}},
      {"allows-mount", "--security-opt seccomp=" + allow_mount, {"seccomp-allows:mount"}, {}},
  };
  for (const Variation& v : variations) {
    SCOPED_TRACE(v.name);
    run(v.name, "--network none " + v.flags);
    const ContainerResult r = inspect(v.name);
    ASSERT_EQ(r.status, InspectionStatus::kInspected) << r.error;
    Set want = base;
    for (const auto& c : v.removed) want.erase(c);
    want.insert(v.added.begin(), v.added.end());
    EXPECT_EQ(controlsOf(r), want) << "got " << join(controlsOf(r)) << " want " << join(want);
    (void)dockerd_->docker("rm -f " + v.name);
  }
}

TEST_F(InspectDocker, PrivilegedEquivalentContainerShowsEveryHardeningControl) {
  run("privileged", kPrivilegedEquivalent);
  const ContainerResult r = inspect("privileged");
  ASSERT_EQ(r.status, InspectionStatus::kInspected) << r.error;
  const Set got = controlsOf(r);
  for (const std::string& c : kHardeningControls) {
    EXPECT_EQ(got.count(c), 1u) << c << " in " << join(got);
  }
  ASSERT_TRUE(r.seccomp_mode);
  EXPECT_EQ(*r.seccomp_mode, SeccompMode::kDisabled);
  InspectionRun run_result;
  run_result.containers.push_back(r);
  EXPECT_EQ(runOutcome(run_result), RunOutcome::kViolations);
}

TEST_F(InspectDocker, HostNamespacesAndSensitiveMountsAreFound) {
  run("hostns", "--network host --pid host --ipc host --uts host -v /etc:/host-etc");
  const ContainerResult r = inspect("hostns");
  ASSERT_EQ(r.status, InspectionStatus::kInspected) << r.error;
  const Set got = controlsOf(r);
  for (const char* c : {"host-pid-namespace", "host-network-namespace", "host-ipc-namespace",
                        "host-uts-namespace", "sensitive-mount:/etc"}) {
    EXPECT_EQ(got.count(c), 1u) << c << " in " << join(got);
  }
  EXPECT_EQ(got.count("host-mount-namespace"), 0u);  // Docker always gives it its own
}

TEST_F(InspectDocker, AttestationCycleSourceCarriesEveryContainerIntoTheEvidence) {
  run("compliant", kHardened);
  run("privileged", kPrivilegedEquivalent);
  EmptySource inner;
  InspectConfig config;
  config.profiles_dir = profilesDirForTests();
  config.state_roots = {"runc=" + dockerd_->runcStateRoot()};
  auto source = InspectingSource::create(inner, config, dockerd_->socket());
  ASSERT_TRUE(source) << source.error().toString();
  auto collected = (*source)->collect(0);
  ASSERT_TRUE(collected) << collected.error().toString();
  ASSERT_EQ(collected->containers.size(), 2u);  // Docker's and runc's views merged by PID
  std::set<std::string> names;
  for (const auto& c : collected->containers) {
    names.insert(c.name());
    EXPECT_EQ(c.runtime(), "docker");
    EXPECT_EQ(c.image_digest(), image_id_);
    std::set<std::string> controls;
    for (const auto& f : c.findings()) controls.insert(f.control());
    if (c.name() == "privileged") {
      EXPECT_EQ(controls.count("seccomp-disabled"), 1u);
      EXPECT_EQ(controls.count("capability:CAP_SYS_ADMIN"), 1u);
      EXPECT_EQ(c.seccomp().mode(), 0u);
    } else {
      EXPECT_EQ(controls.count("seccomp-disabled"), 0u);
      EXPECT_EQ(c.seccomp().mode(), 2u);
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"compliant", "privileged"}));
}

TEST_F(InspectDocker, MissingProfileIsAConfigurationErrorNotASilentSkip) {
  EmptySource inner;
  InspectConfig config;
  config.profiles_dir = profilesDirForTests();
  config.profile = "no-such-profile";
  auto source = InspectingSource::create(inner, config, dockerd_->socket());
  ASSERT_FALSE(source);
  EXPECT_NE(source.error().toString().find("no-such-profile"), std::string::npos)
      << source.error().toString();
}

}  // namespace
}  // namespace bulwark::agent
