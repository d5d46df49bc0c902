// Test harness: a small real fleet — the bulwark-verifier binary (SQLite, private TLS
// PKI from openssl(1), an admin and a scheduler bearer token) and agent nodes, each
// with its own private swtpm (tests/support/swtpm.h) and a bulwark-agent
// configuration whose measure.include lists one temp file the test can tamper with.
//
// Everything lives in one temp dir; the destructor stops the verifier, the swtpms and
// removes the dir (BULWARK_KEEP_FLEET=1 keeps it for debugging). Binaries come from
// $BULWARK_BINARY_DIR/bin (ctest sets it), else from PATH.
//
// Typical use (docs/slurm.md, tests/integration/slurm_test.cc):
//   auto fleet = Fleet::create();            // temp dir + TLS PKI
//   fleet->addNode("node-1");                // swtpm (its EK CA becomes trusted)
//   fleet->startVerifier();
//   fleet->enrollNode("node-1");             // bulwark-agent enroll
//   fleet->attestOnce("node-1");             // exit 3: nothing approved yet
//   fleet->learnAndApprove("node-1");        // bulwarkctl policy learn + approve
//   fleet->attestOnce("node-1");             // exit 0: affirming, node trusted
//   fleet->tamper("node-1"); fleet->attestOnce("node-1");   // untrusted
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attest/core/error.h"
#include "tests/support/swtpm.h"  // CommandResult, runCommand

namespace bulwark::testing {

struct FleetOptions {
  // Verifier freshness_ttl in seconds (the verifier accepts 10 s .. 7 d).
  int freshness_ttl_s = 600;
  // Container isolation inspection in the agents (profiles from
  // $BULWARK_SOURCE_DIR/profiles). Off by default: this host's containers would
  // otherwise be part of every node's verdict.
  bool inspect = false;
  // Extra keys inside the verifier's `appraisal:` flow mapping after `pcr_bank: sha256`,
  // e.g. "boot_pcrs: true, boot_policy: /path/policy.json" (docs/verifier.md).
  std::string appraisal_extra;
};

class Fleet {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Fleet>> create(const FleetOptions& options = {});
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // ---- verifier ----
  // Starts bulwark-verifier (port 0 the first time, then the same port) and waits until
  // it logs the port it listens on. kUnavailable with the log tail when it does not.
  [[nodiscard]] Result<void> startVerifier();
  // SIGTERM, then SIGKILL after 20 s. Nodes' verdicts stay in the database.
  void stopVerifier();
  // Stop + start on the same port and database (new configuration applies).
  [[nodiscard]] Result<void> restartVerifier();
  // Changes freshness_ttl; takes effect at the next (re)start.
  void setFreshness(std::chrono::seconds ttl) { options_.freshness_ttl_s = int(ttl.count()); }
  // Changes FleetOptions::appraisal_extra; takes effect at the next (re)start.
  void setAppraisalExtra(std::string extra) { options_.appraisal_extra = std::move(extra); }
  bool verifierRunning() const { return verifier_pid_ > 0; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string caFile() const { return dir_ + "/ca.pem"; }  // verifier TLS CA (PEM)
  const std::string& adminToken() const { return admin_token_; }
  const std::string& schedulerToken() const { return scheduler_token_; }
  std::string schedulerTokenFile() const { return dir_ + "/scheduler.token"; }
  std::string verifierLog() const;

  // bulwarkctl against this verifier as admin (token via $BULWARK_TOKEN, never argv).
  CommandResult ctl(const std::string& args) const;
  // GET with curl (an independent client) using `token` (admin when empty): body only.
  std::string get(const std::string& path, const std::string& token = {}) const;

  // ---- nodes ----
  // Manufactures a swtpm for `name` and writes its agent configuration. The verifier
  // trusts every node's EK CA: a running verifier is restarted to pick up the new one.
  [[nodiscard]] Result<void> addNode(const std::string& name);
  // `bulwark-agent enroll` (adds the node first if needed). Error with the output.
  [[nodiscard]] Result<void> enrollNode(const std::string& name);
  // `bulwark-agent attest --once`: exit 0 affirming, 3 appraised but not affirming.
  CommandResult attestOnce(const std::string& name) const;
  // `bulwark-agent run --interval N` as a daemon (log: agentLog(name)); it also attests
  // at once when the measured file changes. stopAgent: SIGTERM, then SIGKILL after 20 s.
  [[nodiscard]] Result<void> startAgent(const std::string& name, int interval_s = 30);
  void stopAgent(const std::string& name);
  std::string agentLog(const std::string& name) const;
  // `bulwarkctl policy learn NAME` + `policy approve --node NAME`.
  [[nodiscard]] Result<void> learnAndApprove(const std::string& name) const;
  // Rewrites / restores the node's measured file (measure.include).
  [[nodiscard]] Result<void> tamper(const std::string& name) const;
  [[nodiscard]] Result<void> restore(const std::string& name) const;
  // Restores the measured file and makes the node trusted again. The tampered digest
  // stays in this boot's measurement log (superseded by the restored one), so the
  // operator re-approves the node (`bulwarkctl approve NAME`) after the restore, as in
  // the demo; the tampered digest never becomes a fleet reference value.
  // Ends with an affirming attestation; the error carries the agent's output.
  [[nodiscard]] Result<void> restoreAndReapprove(const std::string& name) const;
  // The verifier's JSON `state` of the node ("trusted", "untrusted", "stale", ...).
  std::string nodeState(const std::string& name) const;
  // Polls GET /v1/verdicts/{name} (scheduler token; relying parties read a snapshot
  // that may lag an appraisal briefly) until its state is `state`; the last state seen.
  std::string awaitVerdict(const std::string& name, const std::string& state,
                           std::chrono::milliseconds within = std::chrono::seconds(5)) const;

  // Sets the node agent's verifier.firmware_log (TCG PC Client log it ships when the
  // verifier selects PCRs 0-9); empty disables it. Applies to the next agent run.
  [[nodiscard]] Result<void> setFirmwareLog(const std::string& name, const std::string& path) const;
  // The node's swtpm (tcti(), run() with tpm2-tools); nullptr for an unknown node.
  const Swtpm* swtpm(const std::string& name) const;

  std::string measuredFile(const std::string& name) const;
  std::string agentConfig(const std::string& name) const;
  const std::string& dir() const { return dir_; }

 private:
  struct Node {
    std::unique_ptr<Swtpm> swtpm;
    std::string dir;
    pid_t agent_pid = -1;
  };
  Fleet() = default;
  Result<void> makePki();
  void writeVerifierConfig() const;
  std::string inspectSection() const;
  const Node* node(const std::string& name) const;

  FleetOptions options_;
  std::string dir_;
  std::string admin_token_, scheduler_token_;
  std::map<std::string, Node> nodes_;
  pid_t verifier_pid_ = -1;
  int port_ = 0;
  int launches_ = 0;
};

// ---- process helpers shared by the harnesses ----

// Path of a Bulwark binary: $BULWARK_BINARY_DIR/bin/NAME, else NAME (PATH).
std::string bulwarkBinary(const std::string& name);
// Spawns argv[0] (PATH lookup) with `extra_env` added to this process's environment,
// stdout+stderr appended to `log`, in its own process group. -1 when it cannot start.
pid_t spawnLogged(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                  const std::string& log);
// Sends `sig` to the process (and its group), waits up to `grace`, then SIGKILLs.
// Returns the exit code (128+signal when killed); -1 if pid <= 0.
int stopProcess(pid_t pid, int sig, std::chrono::milliseconds grace);
// True while the child has not exited (reaps it when it has).
bool processAlive(pid_t pid);
std::string readText(const std::string& path);
// A random hex string (2*bytes characters) from /dev/urandom.
std::string randomHex(std::size_t bytes);

}  // namespace bulwark::testing
