// Test harness: a real one-node Slurm cluster (DESIGN §10) — munged, slurmctld and
// slurmd from Debian's packages, all private to a temp dir:
//   munged -F with a key made by `mungekey`, its own socket, log, pid and seed files;
//   slurm.conf with ClusterName, SlurmctldHost = NodeName = `hostname -s`, CPUs=1,
//   one partition, SlurmUser=root, AuthType=auth/munge + AuthInfo=socket=<private>,
//   proctrack/linuxproc, task/none (no cgroups needed), free TCP ports for slurmctld
//   and slurmd, private StateSaveLocation / SlurmdSpoolDir / pid and log files;
//   slurmctld -D and slurmd -D as children of the test.
// start() waits until `scontrol ping` answers and the node is idle. The destructor
// (and restart) stops every daemon it started (SIGTERM, then SIGKILL) and removes the
// temp dir (BULWARK_KEEP_SLURM=1 keeps it). The distro's /etc/slurm, /etc/munge and
// services are never touched. Clients must run with env() (SLURM_CONF=...).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "attest/core/error.h"
#include "tests/support/swtpm.h"  // CommandResult

namespace bulwark::testing {

struct SlurmOptions {
  // HealthCheckProgram (absolute path, run by slurmd as root) and its interval in
  // seconds; empty = none.
  std::string health_check_program;
  int health_check_interval_s = 0;
};

// The node as Slurm reports it: `sinfo -N -o %T|%E` (long state name such as
// "idle", "drained", "draining", "mixed"; reason without the [user@time] suffix).
struct SlurmNodeStatus {
  std::string state;
  std::string reason;
  bool drained() const { return state.starts_with("drain"); }
};

class SlurmCluster {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SlurmCluster>> start(
      const SlurmOptions& options = {});
  ~SlurmCluster();
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // Stops slurmd + slurmctld, rewrites slurm.conf with `options`, starts them again on
  // the same state (node drain state and reason survive) and waits until ready.
  [[nodiscard]] Result<void> restart(const SlurmOptions& options);

  const std::string& nodeName() const { return node_; }
  std::string confPath() const { return dir_ + "/slurm.conf"; }
  const std::string& dir() const { return dir_; }
  // Environment entries every Slurm client needs ("SLURM_CONF=...").
  std::vector<std::string> env() const { return {"SLURM_CONF=" + confPath()}; }
  // `scontrol ARGS` (shell words) with env().
  CommandResult scontrol(const std::string& args) const;
  // The node's state and reason, read with sinfo.
  [[nodiscard]] Result<SlurmNodeStatus> status() const;
  // Polls status() until `want(status)` or `within` elapses; the last status either way.
  template <typename Pred>
  Result<SlurmNodeStatus> awaitStatus(Pred want, std::chrono::milliseconds within) const;
  // Daemon logs (munged, slurmctld, slurmd), for failure messages.
  std::string logs() const;

 private:
  SlurmCluster() = default;
  Result<void> startMunge();
  Result<void> startSlurm();
  Result<void> awaitReady();
  void writeConf() const;
  void stopSlurm();

  SlurmOptions options_;
  std::string dir_;
  std::string node_;
  int ctld_port_ = 0, slurmd_port_ = 0;
  pid_t munged_ = -1, slurmctld_ = -1, slurmd_ = -1;
};

void sleepFor(std::chrono::milliseconds d);

template <typename Pred>
Result<SlurmNodeStatus> SlurmCluster::awaitStatus(Pred want,
                                                  std::chrono::milliseconds within) const {
  auto end = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto s = status();
    if (s && want(*s)) return s;
    if (std::chrono::steady_clock::now() >= end) return s;
    sleepFor(std::chrono::milliseconds(200));
  }
}

}  // namespace bulwark::testing
