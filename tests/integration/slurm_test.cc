// `bulwarkctl slurm-healthcheck` against a real one-node Slurm cluster (munged,
// slurmctld, slurmd: tests/support/slurm.h) and a real fleet (bulwark-verifier,
// swtpm, bulwark-agent: tests/support/fleet.h). The Slurm node and the attested node
// are the same name (this host's short name), as on a real compute node.
//
// Slurm's view is read with sinfo (not with the parser under test). The verifier's
// view with curl. One suite-wide cluster and fleet; every test first brings the node
// back to "trusted and idle" so tests do not depend on each other's order.
#include "tests/support/slurm.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/support/fleet.h"
#include "tests/support/net.h"

namespace bulwark::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class SlurmHealthcheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto slurm = SlurmCluster::start();
    ASSERT_TRUE(slurm.has_value()) << slurm.error().toString();
    slurm_ = std::move(*slurm).release();
    auto fleet = Fleet::create();
    ASSERT_TRUE(fleet.has_value()) << fleet.error().toString();
    fleet_ = std::move(*fleet).release();
    node_ = slurm_->nodeName();
    ASSERT_TRUE(fleet_->addNode(node_).has_value());
    auto up = fleet_->startVerifier();
    ASSERT_TRUE(up.has_value()) << up.error().toString();
    auto enrolled = fleet_->enrollNode(node_);
    ASSERT_TRUE(enrolled.has_value()) << enrolled.error().toString();
    auto first = fleet_->attestOnce(node_);
    ASSERT_EQ(first.exit_code, 3) << first.output;  // nothing approved yet
    auto approved = fleet_->learnAndApprove(node_);
    ASSERT_TRUE(approved.has_value()) << approved.error().toString();
    writeCtlConfig(ctlConfig(), "");
  }
  static void TearDownTestSuite() {
    delete slurm_;
    delete fleet_;
    slurm_ = nullptr;
    fleet_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(slurm_, nullptr);
    ASSERT_NE(fleet_, nullptr);
    ensureTrustedAndIdle();
  }

  // The operator's ctl.yaml: the scheduler-role token (read-only) from a file.
  static std::string ctlConfig() { return fleet_->dir() + "/ctl.yaml"; }
  static void writeCtlConfig(const std::string& path, const std::string& extra) {
    std::ofstream(path) << "# bulwarkctl configuration for the Slurm suite\n"
                        << "verifier: " << fleet_->url() << "\n"
                        << "cacert: " << fleet_->caFile() << "\n"
                        << "token_file: " << fleet_->schedulerTokenFile() << "\n"
                        << "slurm_conf: " << slurm_->confPath() << "\n"
                        << "timeout: 5\n"
                        << extra;
  }

  // The health check exactly as slurmd would run it: no flags but the config file.
  static CommandResult healthcheck(const std::string& flags = "") {
    return runCommand(bulwarkBinary("bulwarkctl") + " slurm-healthcheck --config " + ctlConfig() +
                      " " + flags);
  }

  static SlurmNodeStatus status() {
    auto s = slurm_->status();
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().toString());
    return s ? *s : SlurmNodeStatus{};
  }

  static ::testing::AssertionResult verifierUp(const Result<void>& r) {
    if (r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.error().toString();
  }

  // After RESUME slurmctld pings slurmd and shows "idle*" (not responding) until the
  // answer: wait for plain "idle".
  static std::string awaitIdle() {
    auto s = slurm_->awaitStatus([](const SlurmNodeStatus& n) { return n.state == "idle"; }, 10s);
    return s ? s->state : s.error().toString();
  }

  static bool awaitText(const std::string& path, const std::string& needle) {
    auto end = std::chrono::steady_clock::now() + 30s;
    while (readText(path).find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(100ms);
    }
    return true;
  }

  static void attestExpecting(int exit_code) {
    auto r = fleet_->attestOnce(node_);
    ASSERT_EQ(r.exit_code, exit_code) << r.output << "\nverifier log:\n" << fleet_->verifierLog();
  }

  // Tampered measured file, attested: the verifier's verdict is "untrusted".
  static void makeUntrusted() {
    ASSERT_TRUE(fleet_->tamper(node_).has_value());
    attestExpecting(3);
    ASSERT_EQ(fleet_->awaitVerdict(node_, "untrusted"), "untrusted");
  }
  // Restored, re-approved (the tampered digest stays in this boot's log), attested.
  static void makeTrusted() {
    auto r = fleet_->restoreAndReapprove(node_);
    ASSERT_TRUE(r.has_value()) << r.error().toString() << "\n" << fleet_->verifierLog();
    ASSERT_EQ(fleet_->awaitVerdict(node_, "trusted"), "trusted");
  }

  void ensureTrustedAndIdle() {
    if (!fleet_->verifierRunning()) {
      ASSERT_TRUE(verifierUp(fleet_->startVerifier()));
    }
    makeTrusted();
    if (status().drained()) slurm_->scontrol("update NodeName=" + node_ + " State=RESUME");
    ASSERT_EQ(awaitIdle(), "idle") << slurm_->logs();
  }

  static inline SlurmCluster* slurm_ = nullptr;
  static inline Fleet* fleet_ = nullptr;
  static inline std::string node_;
};

TEST_F(SlurmHealthcheck, TrustedNodeStaysIdle) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = healthcheck();
  auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("one health check (trusted, no change): %lld ms\n",
              static_cast<long long>(took.count()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("trusted"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no change"), std::string::npos) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_EQ(s.state, "idle") << r.output;
  EXPECT_EQ(s.reason, "");
}

TEST_F(SlurmHealthcheck, TamperDrainsWithBulwarkReasonAndRestoreResumes) {
  makeUntrusted();

  auto drain = healthcheck();
  ASSERT_EQ(drain.exit_code, 0) << drain.output;
  SlurmNodeStatus drained = status();
  EXPECT_TRUE(drained.drained()) << drained.state << "\n" << drain.output;
  EXPECT_TRUE(drained.reason.starts_with("bulwark: ")) << drained.reason;
  // The verifier's reason names what failed: the tampered file.
  EXPECT_NE(drained.reason.find("measured.conf"), std::string::npos) << drained.reason;

  // Idempotent: the same verdict changes nothing.
  auto again = healthcheck();
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already drained"), std::string::npos) << again.output;
  EXPECT_EQ(status().reason, drained.reason);

  makeTrusted();
  auto resume = healthcheck();
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_NE(resume.output.find("resumed"), std::string::npos) << resume.output;
  EXPECT_EQ(awaitIdle(), "idle") << resume.output;
  EXPECT_EQ(status().reason, "");
}

TEST_F(SlurmHealthcheck, AdminDrainIsNeverResumedNorRelabelled) {
  auto admin = slurm_->scontrol("update NodeName=" + node_ + " State=DRAIN Reason=maintenance");
  ASSERT_EQ(admin.exit_code, 0) << admin.output;
  for (int i = 0; i < 2; ++i) {
    auto r = healthcheck();
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("left to the admin"), std::string::npos) << r.output;
    SlurmNodeStatus s = status();
    EXPECT_TRUE(s.drained()) << s.state;
    EXPECT_EQ(s.reason, "maintenance");
  }
  // Untrusted while drained by the admin: still drained, the admin's reason stays.
  makeUntrusted();
  auto r = healthcheck();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(status().reason, "maintenance") << r.output;
  EXPECT_TRUE(status().drained());
  // Trusted again: still the admin's drain.
  makeTrusted();
  r = healthcheck();
  EXPECT_EQ(status().reason, "maintenance") << r.output;
  EXPECT_TRUE(status().drained());
}

TEST_F(SlurmHealthcheck, VerifierUnreachableFailsClosed) {
  fleet_->stopVerifier();
  auto r = healthcheck();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_TRUE(s.drained()) << s.state << "\n" << r.output;
  EXPECT_EQ(s.reason, "bulwark: verifier unreachable") << r.output;
  EXPECT_NE(r.output.find("unreachable"), std::string::npos) << r.output;

  ASSERT_TRUE(verifierUp(fleet_->startVerifier()));
  r = healthcheck();  // the last verdict is still fresh and trusted
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(awaitIdle(), "idle") << r.output;
}

// A verifier that accepts TCP connections and never answers (a hung process, a
// black-holing proxy) must not keep the check running until slurmd kills it after 60 s:
// that would leave the node schedulable.
TEST_F(SlurmHealthcheck, StalledVerifierFailsClosedInTime) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);  // the kernel completes handshakes; nobody reads
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string cfg = fleet_->dir() + "/ctl-stalled.yaml";
  std::ofstream(cfg) << "verifier: https://127.0.0.1:" << ntohs(addr.sin_port) << "\n"
                     << "cacert: " << fleet_->caFile() << "\n"
                     << "token_file: " << fleet_->schedulerTokenFile() << "\n"
                     << "slurm_conf: " << slurm_->confPath() << "\n"
                     << "timeout: 2\n";
  auto start = std::chrono::steady_clock::now();
  auto r = runCommand(bulwarkBinary("bulwarkctl") + " slurm-healthcheck --config " + cfg);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(took, 20s) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_TRUE(s.drained()) << s.state << "\n" << r.output;
  EXPECT_EQ(s.reason, "bulwark: verifier unreachable") << r.output;
}

// Something else answers at the verifier's address with a valid certificate (a
// misrouted load balancer, a default page): HTTP 200 that is not a verdict is not trust.
TEST_F(SlurmHealthcheck, ForeignTlsServerIsNotTrust) {
  const int port = freeLoopbackPort();
  ASSERT_GT(port, 0);
  // openssl s_server -www answers every GET with 200 and an HTML status page.
  std::string log = fleet_->dir() + "/s_server.log";
  pid_t server = spawnLogged(
      {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
       fleet_->dir() + "/server.pem", "-key", fleet_->dir() + "/server.key", "-www", "-quiet"},
      {}, log);
  ASSERT_GT(server, 0);
  std::string url = "https://127.0.0.1:" + std::to_string(port);
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = runCommand("curl -s -o /dev/null --cacert " + fleet_->caFile() + " " + url + "/")
             .exit_code == 0;
    if (!up) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(up) << readText(log);
  auto r = runCommand(bulwarkBinary("bulwarkctl") + " --verifier " + url +
                      " slurm-healthcheck --config " + ctlConfig());
  stopProcess(server, SIGTERM, 5s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("malformed"), std::string::npos) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_TRUE(s.drained()) << s.state << "\n" << r.output;
  EXPECT_EQ(s.reason, "bulwark: verifier answer malformed") << r.output;
}

TEST_F(SlurmHealthcheck, StaleVerdictDrains) {
  fleet_->setFreshness(10s);  // the verifier's minimum
  ASSERT_TRUE(verifierUp(fleet_->restartVerifier()));
  attestExpecting(0);
  ASSERT_EQ(fleet_->awaitVerdict(node_, "trusted"), "trusted");
  auto fresh = healthcheck();
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_EQ(status().state, "idle") << fresh.output;

  std::this_thread::sleep_for(11s);  // no attestation: the verdict expires
  ASSERT_EQ(fleet_->awaitVerdict(node_, "stale"), "stale");
  auto r = healthcheck();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_TRUE(s.drained()) << s.state << "\n" << r.output;
  EXPECT_TRUE(s.reason.starts_with("bulwark: stale")) << s.reason;
  auto again = healthcheck();  // the stale reason is stable: no second update
  EXPECT_NE(again.output.find("already drained"), std::string::npos) << again.output;

  fleet_->setFreshness(600s);
  ASSERT_TRUE(verifierUp(fleet_->restartVerifier()));
  attestExpecting(0);
  ASSERT_EQ(fleet_->awaitVerdict(node_, "trusted"), "trusted");
  r = healthcheck();
  EXPECT_EQ(awaitIdle(), "idle") << r.output;
}

TEST_F(SlurmHealthcheck, DryRunChangesNothing) {
  makeUntrusted();
  auto r = healthcheck("--dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dry run: would drain"), std::string::npos) << r.output;
  EXPECT_EQ(status().state, "idle");
}

TEST_F(SlurmHealthcheck, MisconfigurationFailsClosedWithAnError) {
  std::string bad = fleet_->dir() + "/ctl-bad.yaml";
  writeCtlConfig(bad, "verifer_typo: https://example.invalid\n");
  auto r = runCommand(bulwarkBinary("bulwarkctl") + " slurm-healthcheck --config " + bad);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("verifer_typo"), std::string::npos) << r.output;
  // slurm_conf could not be read from the broken file: the drain needs SLURM_CONF.
  r = runCommand("SLURM_CONF=" + slurm_->confPath() + " " + bulwarkBinary("bulwarkctl") +
                 " slurm-healthcheck --config " + bad);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_TRUE(s.drained()) << s.state << "\n" << r.output;
  EXPECT_EQ(s.reason, "bulwark: health check misconfigured");

  auto missing = runCommand(bulwarkBinary("bulwarkctl") + " slurm-healthcheck --config " +
                            fleet_->dir() + "/no-such.yaml --dry-run");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  auto bad_node = runCommand(bulwarkBinary("bulwarkctl") + " slurm-healthcheck --config " +
                             ctlConfig() + " --node ../etc");
  EXPECT_EQ(bad_node.exit_code, 2) << bad_node.output;

  auto fixed = healthcheck();
  ASSERT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_EQ(awaitIdle(), "idle") << fixed.output;
}

// A busy node is drained, not killed: Slurm shows it "draining", its job keeps
// running, no new work lands; once trusted again Bulwark resumes it.
TEST_F(SlurmHealthcheck, BusyNodeDrainsWithoutKillingItsJob) {
  auto job = runCommand("SLURM_CONF=" + slurm_->confPath() +
                        " sbatch --parsable -o /dev/null --wrap 'sleep 120'");
  ASSERT_EQ(job.exit_code, 0) << job.output << slurm_->logs();
  std::string id = job.output.substr(0, job.output.find_first_of(";\n"));
  auto busy =
      slurm_->awaitStatus([](const SlurmNodeStatus& s) { return s.state == "allocated"; }, 30s);
  ASSERT_TRUE(busy.has_value() && busy->state == "allocated")
      << (busy ? busy->state : "") << slurm_->logs();

  makeUntrusted();
  auto r = healthcheck();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  SlurmNodeStatus s = status();
  EXPECT_EQ(s.state, "draining") << r.output;
  EXPECT_TRUE(s.reason.starts_with("bulwark: ")) << s.reason;
  auto running = runCommand("SLURM_CONF=" + slurm_->confPath() + " squeue -h -j " + id + " -o %T");
  EXPECT_EQ(running.output, "RUNNING\n") << running.output;

  makeTrusted();
  r = healthcheck();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed"), std::string::npos) << r.output;
  auto back =
      slurm_->awaitStatus([](const SlurmNodeStatus& n) { return n.state == "allocated"; }, 10s);
  EXPECT_TRUE(back.has_value() && back->state == "allocated") << (back ? back->state : "");
  EXPECT_EQ(runCommand("SLURM_CONF=" + slurm_->confPath() + " scancel " + id).exit_code, 0);
  ASSERT_EQ(awaitIdle(), "idle");
}

// `scontrol show node` as Slurm 22.05 prints it (captured from this suite's cluster),
// with the State= and Reason= lines of each row. A fake scontrol serves it, so states
// a one-node test cluster rarely reaches are covered; --dry-run shows the decision.
std::string scontrolShowNode(const std::string& state, const std::string& reason) {
  return "NodeName=vm Arch=x86_64 CoresPerSocket=1 \n"
         "   CPUAlloc=0 CPUEfctv=1 CPUTot=1 CPULoad=3.07\n"
         "   AvailableFeatures=(null)\n   ActiveFeatures=(null)\n   Gres=(null)\n"
         "   NodeAddr=vm NodeHostName=vm Version=22.05.8\n"
         "   OS=Linux 6.18.44-fc-v769 #1 SMP PREEMPT_DYNAMIC @0 \n"
         "   RealMemory=1 AllocMem=0 FreeMem=15012 Sockets=1 Boards=1\n"
         "   State=" +
         state +
         " ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A\n"
         "   Partitions=debug \n"
         "   BootTime=2026-11-22T21:41:56 SlurmdStartTime=2026-11-23T01:17:22\n"
         "   LastBusyTime=2026-11-23T01:17:30\n   CfgTRES=cpu=1,mem=1M,billing=1\n"
         "   AllocTRES=\n   CapWatts=n/a\n   CurrentWatts=0 AveWatts=0\n"
         "   ExtSensorsJoules=n/s ExtSensorsWatts=0 ExtSensorsTemp=n/s\n" +
         (reason.empty() ? "" : "   Reason=" + reason + "\n") + "\n";
}

struct DecisionRow {
  const char* name;
  std::string output;  // what the fake `scontrol show node` prints
  int rc;              // its exit code
  int want_exit;       // bulwarkctl's exit code
  const char* want;    // in bulwarkctl's output
};

TEST_F(SlurmHealthcheck, DecisionTableOnScontrolOutputs) {
  std::string fake = fleet_->dir() + "/fake-scontrol";
  auto run = [&](const DecisionRow& row, bool trusted) {
    {
      std::ofstream out(fake, std::ios::trunc);
      out << "#!/bin/sh\n[ \"$1\" = show ] || exit 99\ncat <<'EOF'\n"
          << row.output << "EOF\nexit " << row.rc << "\n";
    }
    fs::permissions(fake, fs::perms::owner_all);
    auto r = healthcheck("--dry-run --scontrol " + fake + " --node " + node_ + " --timeout 2");
    EXPECT_EQ(r.exit_code, row.want_exit) << row.name << (trusted ? " (trusted)" : "") << "\n"
                                          << r.output;
    EXPECT_NE(r.output.find(row.want), std::string::npos)
        << row.name << (trusted ? " (trusted)" : " (untrusted)") << "\n"
        << r.output;
  };
  const std::string stamp = " [root@2026-11-23T01:17:29]";
  const std::vector<DecisionRow> trusted = {
      {"idle", scontrolShowNode("IDLE", ""), 0, 0, "no change (trusted: nothing to do)"},
      {"drained by bulwark",
       scontrolShowNode("IDLE+DRAIN", "bulwark: verifier unreachable" + stamp), 0, 0,
       "dry run: would resume"},
      {"draining by bulwark", scontrolShowNode("MIXED+DRAIN", "bulwark: stale since x" + stamp), 0,
       0, "dry run: would resume"},
      {"down+drained by bulwark", scontrolShowNode("DOWN*+DRAIN", "bulwark: revoked" + stamp), 0, 0,
       "dry run: would resume"},
      {"admin drain", scontrolShowNode("IDLE+DRAIN", "maintenance" + stamp), 0, 0,
       "left to the admin"},
      {"admin reason mentioning bulwark", scontrolShowNode("IDLE+DRAIN", "bulwark upgrade" + stamp),
       0, 0, "left to the admin"},
      {"admin reason with brackets",
       scontrolShowNode("ALLOCATED+DRAIN", "disk [sda] failing [slurm@2026-11-23T01:00:00]"), 0, 0,
       "Reason=\"disk [sda] failing\""},
      {"not responding, not drained", scontrolShowNode("IDLE+NOT_RESPONDING", ""), 0, 0,
       "trusted: nothing to do"},
      {"one-line output (-o)",
       "NodeName=vm Arch=x86_64 OS=Linux 6.1 #1 SMP State=IDLE+DRAIN ThreadsPerCore=1 "
       "Reason=bulwark: revoked" +
           stamp + "\n",
       0, 0, "dry run: would resume"},
      {"node unknown to slurm", "Node vm not found\n", 1, 2, "scontrol show node failed"},
      {"no State= in the output", "something else entirely\n", 0, 2, "no State="},
      {"scontrol hangs", "\nEOF\nsleep 30\ncat <<'EOF'\n", 0, 2, "timed out"},
  };
  for (const DecisionRow& row : trusted) run(row, true);

  makeUntrusted();
  const std::vector<DecisionRow> untrusted = {
      {"idle", scontrolShowNode("IDLE", ""), 0, 0, "dry run: would drain, Reason=\"bulwark: "},
      {"allocated", scontrolShowNode("ALLOCATED", ""), 0, 0, "dry run: would drain"},
      {"drained by bulwark, other reason",
       scontrolShowNode("IDLE+DRAIN", "bulwark: verifier unreachable" + stamp), 0, 0,
       "dry run: would drain"},
      {"admin drain", scontrolShowNode("IDLE+DRAIN", "maintenance" + stamp), 0, 0, "reason kept"},
      {"down, not drained", scontrolShowNode("DOWN", "Not responding" + stamp), 0, 0,
       "dry run: would drain"},
  };
  for (const DecisionRow& row : untrusted) run(row, false);
  EXPECT_EQ(status().state, "idle") << "dry runs against a fake scontrol touch nothing";
}

// slurmd itself runs the program (HealthCheckProgram/HealthCheckInterval), through
// the two-line wrapper of packaging/examples/slurm/ pointed at this suite's config.
TEST_F(SlurmHealthcheck, SlurmdRunsItAsHealthCheckProgram) {
  std::string wrapper = fleet_->dir() + "/bulwark-healthcheck";
  std::string log = fleet_->dir() + "/healthcheck.log";
  std::ofstream(wrapper) << "#!/bin/sh\n"
                         << "env > " << fleet_->dir() << "/healthcheck.env\n"
                         << "exec " << bulwarkBinary("bulwarkctl") << " slurm-healthcheck --config "
                         << ctlConfig() << " >> " << log << " 2>&1\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  SlurmOptions with_check{wrapper, 2};
  auto restarted = slurm_->restart(with_check);
  ASSERT_TRUE(restarted.has_value()) << restarted.error().toString();

  // End to end as deployed: the agent daemon (triggered on the measured file, else every
  // 5 s) and slurmd's periodic check (2 s). Measured: file modified -> node drained.
  ASSERT_TRUE(fleet_->startAgent(node_, 5).has_value());
  ASSERT_TRUE(awaitText(fleet_->agentLog(node_), "verdict affirming"))
      << readText(fleet_->agentLog(node_));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(fleet_->tamper(node_).has_value());
  auto drained = slurm_->awaitStatus(
      [](const SlurmNodeStatus& s) { return s.drained() && s.reason.starts_with("bulwark: "); },
      60s);
  auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  fleet_->stopAgent(node_);
  ASSERT_TRUE(drained.has_value());
  EXPECT_TRUE(drained->drained()) << drained->state << "\n"
                                  << readText(log) << readText(fleet_->agentLog(node_))
                                  << slurm_->logs();
  RecordProperty("tamper_to_drain_ms", static_cast<int>(took.count()));
  std::printf("tamper-to-drain (agent daemon + HealthCheckInterval=2): %lld ms\n",
              static_cast<long long>(took.count()));
  EXPECT_TRUE(awaitText(log, "drained")) << readText(log);
  EXPECT_NE(readText(fleet_->dir() + "/healthcheck.env").find("SLURMD_NODENAME=" + node_),
            std::string::npos)
      << readText(fleet_->dir() + "/healthcheck.env");

  makeTrusted();
  auto idle = slurm_->awaitStatus([](const SlurmNodeStatus& s) { return s.state == "idle"; }, 60s);
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(idle->state, "idle") << readText(log);
  EXPECT_TRUE(awaitText(log, "resumed")) << readText(log);

  auto plain = slurm_->restart({});
  ASSERT_TRUE(plain.has_value()) << plain.error().toString();
}

}  // namespace
}  // namespace bulwark::testing
