// Container isolation inspection against real runc containers (issue 4, label
// integration): a hardened busybox container, then one variation at a time;
// each variation must add (and remove) exactly the expected findings relative
// to the hardened one. Also: the seccomp chain is dumped from the kernel and
// evaluated, the process is never left stopped, a container that vanishes
// between discovery and inspection is reported while others are still
// inspected, and an untraceable process is an error, not a clean result.
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "agent/inspect/checks.h"
#include "agent/inspect/inspector.h"
#include "agent/inspect/json_fields.h"
#include "agent/inspect/report.h"
#include "agent/inspect/runtime_state.h"
#include "tests/support/runc.h"
#include "tests/support/suite_resource.h"

namespace bulwark::agent {
namespace {

using testing::RuncHarness;
using testing::RuncSpec;
using Set = std::set<std::string>;

std::string sourceDir() {
  const char* d = std::getenv("BULWARK_SOURCE_DIR");
  return d != nullptr ? d : ".";
}

char procState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("State:", 0) == 0 && line.size() > 7) return line[7];
  }
  return '?';
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

class InspectRunc : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    harness_.start(RuncHarness::create());
    auto docker =
        testing::dockerSeccompProfile(sourceDir() + "/tests/testdata/seccomp/docker-default.json");
    if (docker) {
      docker_seccomp_ = *docker;
    } else {
      harness_.fail(docker.error().toString());
    }
  }
  static void TearDownTestSuite() { harness_.stop(); }

  void SetUp() override {
    // Not a skip: runc runs on every machine this suite is meant for.
    ASSERT_TRUE(harness_) << "runc harness: " << harness_.error();
    auto cfg = loadInspectorConfig(sourceDir() + "/profiles", "restricted");
    ASSERT_TRUE(cfg) << cfg.error().toString();
    inspector_ = std::make_unique<Inspector>(std::move(*cfg), dumper_);
  }

  RuncSpec hardened() const {
    RuncSpec s;
    s.seccomp = docker_seccomp_;
    return s;
  }

  // Starts `spec` as container `id`, inspects it alone, removes it.
  ContainerResult inspectOne(const std::string& id, const RuncSpec& spec) {
    auto c = harness_->run(id, spec);
    EXPECT_TRUE(c) << c.error().toString();
    if (!c) return {};
    StateDirRuntime rt(harness_->stateRoot(), "runc");
    const InspectionRun run = inspector_->run({&rt}, {id});
    EXPECT_EQ(run.containers.size(), 1u);
    EXPECT_NE(procState(c->pid), 't') << "left in ptrace stop";
    EXPECT_NE(procState(c->pid), 'T') << "left stopped";
    harness_->remove(id);
    return run.containers.empty() ? ContainerResult{} : run.containers.front();
  }

  static inline testing::SuiteResource<RuncHarness> harness_;
  static inline nlohmann::json docker_seccomp_;
  PtraceSeccompDumper dumper_;
  std::unique_ptr<Inspector> inspector_;
};


// What a hardened container still shows here: Docker's default filter allows
// ptrace on kernels >= 4.8 (medium), and this host has no LSM at all.
Set hardenedExpected() {
  Set want = {"seccomp-allows:ptrace"};
  std::ifstream attr("/proc/self/attr/current");
  std::string label;
  std::getline(attr, label);
  if (lsmUnconfined(label.empty() ? std::nullopt : std::optional<std::string>(label))) {
    want.insert("lsm-unconfined");
  }
  return want;
}

TEST_F(InspectRunc, HardenedHasNoHighFindingAndTheKernelFilterIsEvaluated) {
  const ContainerResult r = inspectOne("hardened", hardened());
  ASSERT_EQ(r.status, InspectionStatus::kInspected) << r.error;
  EXPECT_EQ(controlsOf(r), hardenedExpected()) << join(controlsOf(r));
  for (const Finding& f : r.findings) {
    EXPECT_LT(severityRank(f.severity), severityRank("high")) << f.control << ": " << f.detail;
  }
  ASSERT_TRUE(r.seccomp_mode);
  EXPECT_EQ(*r.seccomp_mode, SeccompMode::kFilter);
  EXPECT_GE(r.seccomp_filters, 1u);
  ASSERT_NE(r.seccomp_policy, nullptr);
  const ArchPolicy* x86_64 = r.seccomp_policy->find("x86_64");
  ASSERT_NE(x86_64, nullptr);
  for (const char* denied : {"mount", "bpf", "kexec_load", "unshare", "keyctl", "pivot_root"}) {
    const SyscallPolicy* sp = x86_64->find(denied);
    ASSERT_NE(sp, nullptr) << denied;
    EXPECT_FALSE(sp->mayRun()) << denied << " should be denied by Docker's default filter";
  }
  EXPECT_TRUE(x86_64->find("read")->mayRun());
  EXPECT_LT(r.stopped.count(), 100000) << "held stopped for " << r.stopped.count() << " us";
  // The baseline profile accepts what remains (ptrace is medium: lead's decision).
  auto cfg = loadInspectorConfig(sourceDir() + "/profiles", "baseline");
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(std::all_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
    return !judge(cfg->profile, f.control, f.severity).violation;
  }));
}

TEST_F(InspectRunc, EachVariationAddsExactlyItsFindings) {
  const Set base = hardenedExpected();
  const std::string sock_dir = harness_->dir() + "/sock";
  std::filesystem::create_directories(sock_dir);
  const std::string sock = sock_dir + "/docker.sock";
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  auto permissive = testing::dockerSeccompProfile(
      sourceDir() + "/tests/testdata/seccomp/docker-default.json", {}, {"bpf", "mount"});
  ASSERT_TRUE(permissive);
  struct Case {
    const char* id;
    std::function<void(RuncSpec&)> edit;
    Set added;
    Set removed;
  } cases[] = {
      {"no-seccomp",
       [](RuncSpec& s) { s.seccomp = nullptr; },
       {"seccomp-disabled"},
       {"seccomp-allows:ptrace"}},
      {"host-pid-net",
       [](RuncSpec& s) {
         s.host_namespaces = {"pid", "network"};
       },
       {"host-pid-namespace", "host-network-namespace"},
       {}},
      {"host-ipc-uts",
       [](RuncSpec& s) {
         s.host_namespaces = {"ipc", "uts"};
       },
       {"host-ipc-namespace", "host-uts-namespace"},
       {}},
      {"host-cgroupns",
       [](RuncSpec& s) { s.host_namespaces = {"cgroup"}; },
       {"host-cgroup-namespace"},
       {}},
      {"sys-admin",
       [](RuncSpec& s) { s.capabilities = {"CAP_SYS_ADMIN"}; },
       {"capability:CAP_SYS_ADMIN"},
       {}},
      {"writable-root", [](RuncSpec& s) { s.readonly_rootfs = false; }, {"rootfs-writable"}, {}},
      {"docker-sock",
       [&](RuncSpec& s) {
         s.mounts = {{sock, "/var/run/docker.sock", true}};
       },
       {"sensitive-mount:" + sock},
       {}},
      {"nnp-off", [](RuncSpec& s) { s.no_new_privileges = false; }, {"no-new-privileges-off"}, {}},
      {"root", [](RuncSpec& s) { s.uid = 0; }, {"root-without-userns"}, {}},
      {"root-in-userns",
       [](RuncSpec& s) {
         s.uid = 0;
         s.user_namespace = true;
       },
       {},
       {}},
      {"no-limits",
       [](RuncSpec& s) {
         s.memory_limit.reset();
         s.pids_limit.reset();
       },
       {"no-memory-limit", "no-pids-limit"},
       {}},
      {"permissive-seccomp",
       [&](RuncSpec& s) { s.seccomp = *permissive; },
       {"seccomp-allows:bpf", "seccomp-allows:mount"},
       {}},
  };
  for (const Case& c : cases) {
    RuncSpec spec = hardened();
    c.edit(spec);
    const ContainerResult r = inspectOne(c.id, spec);
    EXPECT_EQ(r.status, InspectionStatus::kInspected) << c.id << ": " << r.error;
    Set want = base;
    for (const auto& rm : c.removed) want.erase(rm);
    want.insert(c.added.begin(), c.added.end());
    EXPECT_EQ(controlsOf(r), want)
        << c.id << ": got " << join(controlsOf(r)) << ", want " << join(want);
  }
}

// A runtime whose containers vanish right after discovery.
class VanishingRuntime final : public ContainerRuntime {
 public:
  VanishingRuntime(StateDirRuntime& inner, RuncHarness& h, std::string victim)
      : inner_(inner), harness_(h), victim_(std::move(victim)) {}
  std::string name() const override { return "vanishing"; }
  Result<std::vector<ContainerRef>> list() override {
    auto l = inner_.list();
    harness_.remove(victim_);
    return l;
  }

 private:
  StateDirRuntime& inner_;
  RuncHarness& harness_;
  std::string victim_;
};

TEST_F(InspectRunc, VanishedContainerIsReportedOthersStillInspected) {
  ASSERT_TRUE(harness_->run("stays", hardened()));
  ASSERT_TRUE(harness_->run("goes", hardened()));
  StateDirRuntime rt(harness_->stateRoot(), "runc");
  VanishingRuntime vanishing(rt, *harness_, "goes");
  const InspectionRun run = inspector_->run({&vanishing}, {});
  ASSERT_EQ(run.containers.size(), 2u);
  for (const ContainerResult& r : run.containers) {
    if (r.ref.id == "goes") {
      EXPECT_EQ(r.status, InspectionStatus::kExited);
      EXPECT_NE(r.error.find("exited between discovery and inspection"), std::string::npos)
          << r.error;
    } else {
      EXPECT_EQ(r.status, InspectionStatus::kInspected) << r.error;
      EXPECT_EQ(controlsOf(r), hardenedExpected());
    }
  }
  EXPECT_EQ(runOutcome(run),
            RunOutcome::kViolations);  // restricted reports ptrace; exit is not an error
  harness_->remove("stays");
}

// A well-behaved tracer in a child process (what strace does): seizes `pid`,
// then forwards every signal-delivery stop with PTRACE_CONT, so a signal that
// reaches the container while it is traced does not leave it stopped. The
// tracee is detached when the tracer is killed.
class ForeignTracer {
 public:
  explicit ForeignTracer(pid_t pid) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    tracer_ = ::fork();
    if (tracer_ == 0) {
      ::close(fds[0]);
      const char ok = ::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0 ? 1 : 0;
      (void)!::write(fds[1], &ok, 1);
      ::close(fds[1]);
      if (ok == 0) ::_exit(1);
      for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, __WALL) != pid) ::_exit(0);
        if (WIFEXITED(status) || WIFSIGNALED(status)) ::_exit(0);
        const int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
        ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
      }
    }
    ::close(fds[1]);
    char ok = 0;
    seized_ = tracer_ > 0 && ::read(fds[0], &ok, 1) == 1 && ok == 1;
    ::close(fds[0]);
  }
  ~ForeignTracer() {
    if (tracer_ > 0) {
      ::kill(tracer_, SIGKILL);
      ::waitpid(tracer_, nullptr, 0);
    }
  }
  bool seized() const { return seized_; }

 private:
  pid_t tracer_ = -1;
  bool seized_ = false;
};

TEST_F(InspectRunc, UntraceableProcessIsAnErrorAndNotLeftStopped) {
  auto c = harness_->run("traced", hardened());
  ASSERT_TRUE(c) << c.error().toString();
  {
    // Another process is its tracer first, so the inspector's PTRACE_SEIZE must fail.
    ForeignTracer tracer(c->pid);
    ASSERT_TRUE(tracer.seized());
    StateDirRuntime rt(harness_->stateRoot(), "runc");
    const InspectionRun run = inspector_->run({&rt}, {"traced"});
    ASSERT_EQ(run.containers.size(), 1u);
    const ContainerResult& r = run.containers[0];
    EXPECT_EQ(r.status, InspectionStatus::kError);
    EXPECT_NE(r.error.find("PTRACE_SEIZE"), std::string::npos) << r.error;
    EXPECT_TRUE(controlsOf(r).count("inspection-incomplete")) << join(controlsOf(r));
    EXPECT_EQ(runOutcome(run), RunOutcome::kIncomplete);
    EXPECT_NE(procState(c->pid), 'T') << "stopped by the failed inspection";
  }
  // The tracer is gone: the container runs and the inspector can now trace it.
  ::usleep(20000);
  EXPECT_NE(procState(c->pid), 't');
  EXPECT_NE(procState(c->pid), 'T');
  StateDirRuntime rt(harness_->stateRoot(), "runc");
  const InspectionRun again = inspector_->run({&rt}, {"traced"});
  ASSERT_EQ(again.containers.size(), 1u);
  EXPECT_EQ(again.containers[0].status, InspectionStatus::kInspected) << again.containers[0].error;
  harness_->remove("traced");
}

TEST_F(InspectRunc, EvidenceReportsCarryFindingsAndSeccompSummary) {
  ASSERT_TRUE(harness_->run("evidence", hardened()));
  StateDirRuntime rt(harness_->stateRoot(), "runc");
  const InspectionRun run = inspector_->run({&rt}, {"evidence"});
  const auto reports = toContainerReports(run);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].runtime(), "runc");
  EXPECT_EQ(reports[0].seccomp().mode(), 2u);
  EXPECT_GE(reports[0].seccomp().filters(), 1u);
  EXPECT_GT(reports[0].seccomp().denied_size(), 10);
  EXPECT_EQ(static_cast<std::size_t>(reports[0].findings_size()), hardenedExpected().size());
  harness_->remove("evidence");
}

}  // namespace
}  // namespace bulwark::agent
