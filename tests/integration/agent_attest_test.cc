// bulwark-agent against the real bulwark-verifier binary and a private swtpm:
// `enroll` (EK certificate from swtpm_localca, AK credential activation, client
// certificate) then `attest --once` → affirming; the steady state uses the
// next nonce (one round trip); a reused nonce is refused by the verifier
// (checked on the wire, and the CLI recovers with a fresh one); `run` as a
// daemon talks sd_notify (READY, WATCHDOG, STOPPING) to a real notify socket
// and exits cleanly on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "agent/cycle/agent_wiring.h"
#include "agent/cycle/report_builder.h"
#include "agent/cycle/tpm_quoter.h"
#include "agent/enroll/agent_settings.h"
#include "agent/enroll/pcr_choice.h"
#include "agent/enroll/state_store.h"
#include "agent/transport/verifier_error.h"
#include "attest/core/digest.h"
#include "attest/quote/qualifying_data.h"
#include "tests/support/fleet.h"
#include "tests/support/swtpm.h"

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::runCommand;

constexpr const char* kAdminToken = "agent-attest-test-admin-token";

// Process helpers shared with the other harnesses (tests/support/fleet.h).
using testing::bulwarkBinary;
using testing::readText;
using testing::spawnLogged;

int waitExit(pid_t pid, std::chrono::milliseconds within) {
  auto end = std::chrono::steady_clock::now() + within;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// The real verifier: TLS material from openssl(1), SQLite in the temp dir,
// swtpm's local CA as the EK CA store, auto-approval.
class Verifier {
 public:
  Verifier(const testing::Swtpm& swtpm, const std::string& dir)
      : dir_(dir), root_ca_(swtpm.rootCaPem()), issuer_ca_(swtpm.issuerCaPem()) {
    auto pki = runCommand(
        "set -e; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
        "ca.key "
        "-out ca.pem -subj /CN=agent-test-ca -days 2; "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
        "-out server.csr -subj /CN=127.0.0.1; printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext; "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
        "-days 2 -extfile san.ext",
        dir_);
    EXPECT_EQ(pki.exit_code, 0) << pki.output;
    launch(0, "verifier.log");
  }
  ~Verifier() { stop(); }
  // Stops and starts again on the same port and database (a verifier upgrade or crash).
  bool restart() {
    stop();
    return launch(port_, "verifier-restarted.log");
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      waitExit(pid_, 20s);
      pid_ = -1;
    }
  }
  bool up() const { return port_ != 0; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string caFile() const { return dir_ + "/ca.pem"; }
  std::string log() const { return readText(log_); }
  // Admin API calls with curl (an independent client).
  std::string get(const std::string& path) const {
    return runCommand("curl -sS --cacert " + caFile() + " -H 'Authorization: Bearer " +
                      kAdminToken + "' " + url() + path)
        .output;
  }
  std::string post(const std::string& path, const std::string& json) const {
    return runCommand("curl -sS -X POST --cacert " + caFile() + " -H 'Authorization: Bearer " +
                      kAdminToken + "' -H 'Content-Type: application/json' -d '" + json + "' " +
                      url() + path)
        .output;
  }

 private:
  bool launch(int port, const std::string& log_name) {
    log_ = dir_ + "/" + log_name;
    std::ofstream(dir_ + "/verifier.yaml")
        << "listen: {address: 127.0.0.1, port: " << port << "}\n"
        << "tls: {cert: " << dir_ << "/server.pem, key: " << dir_ << "/server.key}\n"
        << "agent_ca: {cert: " << dir_ << "/agent-ca.pem, key: " << dir_
        << "/agent-ca.key, validity: 1d}\n"
        << "tokens: [{name: admin, role: admin, sha256: " << toHex(sha256(asBytes(kAdminToken)))
        << "}]\n"
        << "database: {sqlite: " << dir_ << "/verifier.db}\n"
        << "verifier_key: " << dir_ << "/ear.key\n"
        << "enrollment: {ek_ca: [" << root_ca_ << "], ek_intermediates: [" << issuer_ca_
        << "], auto_approve: true}\n"
        << "appraisal: {pcr_bank: sha256}\n";
    pid_ = spawnLogged({bulwarkBinary("bulwark-verifier"), "--config", dir_ + "/verifier.yaml"}, {},
                       log_);
    std::regex port_re(R"re("msg":"listening".*"port":([0-9]+))re");
    int seen = 0;
    for (int i = 0; i < 200 && seen == 0 && pid_ > 0; ++i) {
      std::this_thread::sleep_for(50ms);
      std::smatch m;
      std::string text = readText(log_);
      if (std::regex_search(text, m, port_re)) seen = std::stoi(m[1]);
    }
    port_ = seen;
    return seen != 0;
  }

  std::string dir_;
  std::string root_ca_, issuer_ca_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class AgentAttest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bulwark-agent-attest-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto tpm = testing::Swtpm::start();
    ASSERT_TRUE(tpm.has_value()) << tpm.error().toString();
    swtpm_ = std::move(*tpm);
    verifier_ = std::make_unique<Verifier>(*swtpm_, dir_);
    ASSERT_TRUE(verifier_->up()) << verifier_->log();
    std::ofstream(measuredFile()) << "setting = 1\n";
    // The host collector always measures os-release, cmdline, kernel and modules;
    // runtime discovery is narrowed so the test does not depend on this host's daemons.
    std::ofstream(config())
        << "node: node-1\n"
        << "state_dir: " << stateDir() << "\n"
        << "tpm: {tcti: \"" << swtpm_->tcti() << "\"}\n"
        << "verifier: {url: \"" << verifier_->url() << "\", ca_file: " << verifier_->caFile()
        << ", timeout: 20s, firmware_log: \"\", ima_log: \"\"}\n"
        << "measure: {log: " << dir_ << "/measure.log, include: [" << measuredFile()
        << "], runtime_binaries: [no-such-runtime], docker_socket: \"\", oci_state_roots: [],"
        << " containerd_task_roots: [], systemd: false}\n";
  }
  void TearDown() override {
    verifier_.reset();
    swtpm_.reset();
    if (!dir_.empty() && std::getenv("BULWARK_KEEP_AGENT_TEST") == nullptr) fs::remove_all(dir_);
  }
  std::string config() const { return dir_ + "/agent.yaml"; }
  std::string stateDir() const { return dir_ + "/state"; }
  std::string measuredFile() const { return dir_ + "/measured.conf"; }
  testing::CommandResult agent(const std::string& args) const {
    return runCommand(bulwarkBinary("bulwark-agent") + " --config " + config() + " " + args);
  }

  std::string dir_;
  std::unique_ptr<testing::Swtpm> swtpm_;
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(AgentAttest, EnrollThenAttestIsAffirmingAndAReusedNonceIsRefused) {
  auto before = agent("attest --once");
  EXPECT_EQ(before.exit_code, 1) << before.output;
  EXPECT_NE(before.output.find("bulwark-agent enroll"), std::string::npos) << before.output;

  auto enroll = agent("enroll");
  ASSERT_EQ(enroll.exit_code, 0) << enroll.output << "\nverifier log:\n" << verifier_->log();
  EXPECT_NE(enroll.output.find("[4/4]"), std::string::npos) << enroll.output;
  EXPECT_NE(enroll.output.find("enrolled as 'node-1'"), std::string::npos) << enroll.output;
  auto again = agent("enroll");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find("[1/4]"), std::string::npos)
      << "re-running a finished enrollment does nothing";

  // Nothing is approved on the verifier yet: appraised, not affirming (exit 3).
  auto unknown = agent("attest --once");
  ASSERT_EQ(unknown.exit_code, 3) << unknown.output << "\nverifier log:\n" << verifier_->log();
  EXPECT_NE(unknown.output.find("measurement-unknown"), std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("round trips: 1"), std::string::npos)
      << "the enrollment's nonce is used";
  // The operator learns this node's measurements and approves them.
  std::string learned = verifier_->post("/v1/policy/learn/node-1", "{}");
  EXPECT_NE(learned.find("\"changed\""), std::string::npos) << learned;
  std::string approved = verifier_->post("/v1/policy/approve", R"({"node":"node-1"})");
  EXPECT_NE(approved.find("\"changed\""), std::string::npos) << approved;

  auto first = agent("attest --once");
  ASSERT_EQ(first.exit_code, 0) << first.output << "\nverifier log:\n" << verifier_->log();
  EXPECT_NE(first.output.find("verdict: affirming"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("round trips: 1"), std::string::npos) << first.output;

  StateStore store(stateDir());
  std::string held = readText(store.attestationPath());  // holds the next nonce
  auto second = agent("attest --once");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("round trips: 1"), std::string::npos) << second.output;

  // On the wire: evidence bound to the nonce the second cycle already used.
  std::ofstream(store.attestationPath()) << held;
  auto state = store.loadAttestation();
  ASSERT_TRUE(state.has_value());
  {
    auto settings = loadAgentSettings(config(), true);
    ASSERT_TRUE(settings.has_value()) << settings.error().toString();
    auto tpm = openTpm(*settings);
    ASSERT_TRUE(tpm.has_value()) << tpm.error().toString();
    TpmQuoter quoter(**tpm, store.akBlobPath());
    auto verifier = makeVerifierClient(*settings, store, true);
    ASSERT_TRUE(verifier.has_value()) << verifier.error().toString();
    ReportInputs inputs;
    inputs.node = "node-1";
    inputs.nonce = state->nonce;
    auto report = buildReport(inputs, {}, {});
    ASSERT_TRUE(report.has_value());
    auto selection = pcrSelectionFor(state->pcr);
    ASSERT_TRUE(selection.has_value());
    auto quote = quoter.quote(*selection, attest::qualifyingData(state->nonce, asBytes(*report)));
    ASSERT_TRUE(quote.has_value()) << quote.error().toString();
    auto refused = (*verifier)->attest(buildEvidence(*report, *quote));
    ASSERT_FALSE(refused.has_value()) << "a used nonce must not be accepted";
    EXPECT_TRUE(isNonceError(refused.error())) << refused.error().toString();
    EXPECT_EQ(verifierErrorStatus(refused.error()), 409);
  }
  // The CLI holding that used nonce recovers with a fresh one.
  auto recovered = agent("attest --once");
  ASSERT_EQ(recovered.exit_code, 0) << recovered.output;
  EXPECT_NE(recovered.output.find("nonce-"), std::string::npos) << recovered.output;
  EXPECT_NE(recovered.output.find("round trips: 3"), std::string::npos) << recovered.output;

  std::string node = verifier_->get("/v1/nodes/node-1");
  EXPECT_NE(node.find("\"state\":\"trusted\""), std::string::npos) << node;

  // A measured file changes: measured, extended, reported — and no longer approved.
  std::ofstream(measuredFile()) << "setting = 2\n";
  auto changed = agent("attest --once");
  EXPECT_EQ(changed.exit_code, 3) << changed.output;
  EXPECT_NE(changed.output.find("measurement-unknown"), std::string::npos) << changed.output;
  EXPECT_NE(changed.output.find(measuredFile()), std::string::npos) << changed.output;
  EXPECT_EQ(changed.output.find("log-does-not-replay"), std::string::npos) << changed.output;
}

// The service manager's side of sd_notify: a datagram socket drained by a thread
// (like systemd does; an undrained socket fills up and blocks the sender).
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ >= 0 && path.size() < sizeof addr.sun_path) {
      std::strcpy(addr.sun_path, path.c_str());
      bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    timeval tv{0, 50000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] {
      while (!stop_) {
        char buf[512];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        seen_.append(buf, static_cast<std::size_t>(n)).append("\n");
      }
    });
  }
  ~NotifySocket() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  bool bound() const { return bound_; }
  bool await(const std::string& want, std::chrono::milliseconds within) {
    auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      if (seen().find(want) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return seen().find(want) != std::string::npos;
  }
  std::string seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::size_t count(const std::string& what) {
    std::string all = seen();
    std::size_t n = 0;
    for (std::size_t at = all.find(what); at != std::string::npos; at = all.find(what, at + 1)) ++n;
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string seen_;
  std::thread thread_;
};

TEST_F(AgentAttest, DaemonNotifiesAndStopsOnSigterm) {
  auto enroll = agent("enroll");
  ASSERT_EQ(enroll.exit_code, 0) << enroll.output;
  EXPECT_EQ(agent("attest --once").exit_code, 3);
  verifier_->post("/v1/policy/learn/node-1", "{}");
  verifier_->post("/v1/policy/approve", R"({"node":"node-1"})");

  NotifySocket notify(dir_ + "/notify.sock");
  ASSERT_TRUE(notify.bound());
  std::string log = dir_ + "/run.log";
  pid_t pid =
      spawnLogged({bulwarkBinary("bulwark-agent"), "--config", config(), "run", "--interval", "1"},
                  {"NOTIFY_SOCKET=" + dir_ + "/notify.sock", "WATCHDOG_USEC=400000"}, log);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(notify.await("READY=1", 20s)) << notify.seen() << readText(log);
  std::this_thread::sleep_for(2500ms);  // a few more cycles at 1 s, watchdog every 200 ms
  ::kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid, 20s), 0) << readText(log);
  EXPECT_TRUE(notify.await("STOPPING=1", 2s)) << notify.seen();
  EXPECT_GE(notify.count("WATCHDOG=1"), 5u) << notify.seen();
  EXPECT_EQ(notify.count("READY=1"), 1u);
  std::string text = readText(log);
  EXPECT_NE(text.find("verdict affirming"), std::string::npos) << text;
  EXPECT_NE(text.find("SIGTERM received"), std::string::npos) << text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("stopping after ([0-9]+) cycle"))) << text;
  EXPECT_GE(std::stoi(m[1]), 2) << text;
  EXPECT_EQ(text.find("unreachable"), std::string::npos) << text;
  EXPECT_EQ(text.find("attestation failed"), std::string::npos) << text;
  // From the second cycle on, the CEL log travels from the verifier's copy (docs/api.md
  // "Incremental logs"), and the verifier never had to ask for it whole.
  EXPECT_NE(text.find("sending logs incrementally (1 from the verifier's copy)"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("log-prefix-unknown"), std::string::npos) << text;
  for (const char* verdict : {"verdict contraindicated", "verdict warning", "verdict none"}) {
    EXPECT_EQ(text.find(verdict), std::string::npos) << "incremental evidence appraised " << text;
  }
  EXPECT_EQ(text.find("sending whole logs"), std::string::npos) << text;
}

// Waits until `want` is in the log at `path` (after the first `after`, if given).
bool awaitLog(const std::string& path, const std::string& want, std::chrono::seconds within,
              const std::string& after = "") {
  auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    std::string text = readText(path);
    std::size_t from = text.find(after);
    if (from != std::string::npos && text.find(want, from) != std::string::npos) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// The verifier goes away and comes back (same port, same database): the daemon
// backs off, says so once, resumes by itself, and no evidence is appraised twice.
TEST_F(AgentAttest, DaemonRidesOutAVerifierRestart) {
  ASSERT_EQ(agent("enroll").exit_code, 0);
  EXPECT_EQ(agent("attest --once").exit_code, 3);
  verifier_->post("/v1/policy/learn/node-1", "{}");
  verifier_->post("/v1/policy/approve", R"({"node":"node-1"})");
  std::string log = dir_ + "/run.log";
  pid_t pid = spawnLogged(
      {bulwarkBinary("bulwark-agent"), "--config", config(), "run", "--interval", "1"}, {}, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(awaitLog(log, "verdict affirming", 20s)) << readText(log);
  verifier_->stop();
  EXPECT_TRUE(awaitLog(log, "verifier unreachable", 10s)) << readText(log);
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(verifier_->restart()) << verifier_->log();
  EXPECT_TRUE(awaitLog(log, "verifier reachable again", 30s)) << readText(log);
  std::this_thread::sleep_for(1500ms);  // at least one more cycle after the recovery
  ::kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid, 20s), 0) << readText(log);

  std::string node = verifier_->get("/v1/nodes/node-1");
  EXPECT_NE(node.find("\"state\":\"trusted\""), std::string::npos) << node;
  auto history =
      nlohmann::json::parse(verifier_->get("/v1/nodes/node-1/history?limit=1000"), nullptr, false);
  ASSERT_TRUE(history.is_object() && history.contains("appraisals")) << history.dump();
  // A policy change re-appraises stored evidence under the new policy version; the
  // same evidence twice under one version would be a duplicated attestation.
  std::set<std::string> evidence;
  std::set<std::pair<std::string, int>> appraisals;
  for (const auto& a : history["appraisals"]) {
    ASSERT_TRUE(a.contains("evidence_sha256") && a["evidence_sha256"].is_string()) << a.dump();
    std::string sha = a["evidence_sha256"].get<std::string>();
    evidence.insert(sha);
    EXPECT_TRUE(appraisals.insert({sha, a.value("policy_version", -1)}).second)
        << "evidence appraised twice: " << a.dump();
  }
  EXPECT_GE(evidence.size(), 3u) << history.dump();
}

// A verifier restored from a backup no longer holds the log copy the daemon's cursor
// names: it answers 409 log-prefix-unknown, and the daemon sends the whole log in the
// same cycle (docs/api.md "Incremental logs"), then goes incremental again. Cycles
// here come from change triggers (the timer is 60 s), so no failed cycle drops the
// cursor while the verifier is down.
TEST_F(AgentAttest, DaemonSendsTheWholeLogToAVerifierRestoredFromABackup) {
  ASSERT_EQ(agent("enroll").exit_code, 0);
  EXPECT_EQ(agent("attest --once").exit_code, 3);
  verifier_->post("/v1/policy/learn/node-1", "{}");
  verifier_->post("/v1/policy/approve", R"({"node":"node-1"})");
  const std::string db = dir_ + "/verifier.db";
  auto copyDatabase = [&](const std::string& from, const std::string& to) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(to + suffix);
      if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix);
    }
  };
  verifier_->stop();
  copyDatabase(db, dir_ + "/backup.db");  // holds the log copy of the attestation above
  ASSERT_TRUE(verifier_->restart()) << verifier_->log();

  std::string log = dir_ + "/run.log";
  pid_t pid = spawnLogged(
      {bulwarkBinary("bulwark-agent"), "--config", config(), "run", "--interval", "60"}, {}, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(awaitLog(log, "verdict affirming", 20s)) << readText(log);
  std::ofstream(measuredFile()) << "setting = 2\n";  // a new record: the cursor moves past it
  ASSERT_TRUE(awaitLog(log, "sending logs incrementally", 20s)) << readText(log);
  ASSERT_TRUE(awaitLog(log, "measurement-unknown", 20s)) << readText(log);

  verifier_->stop();
  copyDatabase(dir_ + "/backup.db", db);
  ASSERT_TRUE(verifier_->restart()) << verifier_->log();
  std::ofstream(measuredFile()) << "setting = 3\n";
  EXPECT_TRUE(awaitLog(log, "sending whole logs", 30s)) << readText(log);
  std::ofstream(measuredFile()) << "setting = 4\n";
  // The next triggered cycle ships from the cursor the whole log left.
  EXPECT_TRUE(awaitLog(log, "sending logs incrementally", 30s, "sending whole logs"))
      << readText(log);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(waitExit(pid, 20s), 0) << readText(log);
  std::string text = readText(log);
  EXPECT_NE(text.find("(log-prefix-unknown: another replica or restored state): sent the "
                      "whole logs again with the same nonce"),
            std::string::npos)
      << text;
  std::size_t whole = text.find("sending whole logs");
  ASSERT_NE(whole, std::string::npos) << text;
  EXPECT_NE(text.find("sending logs incrementally", whole), std::string::npos)
      << "incremental again after the whole log: " << text;
  EXPECT_EQ(text.find("attestation failed"), std::string::npos) << text;
  EXPECT_EQ(text.find("log-does-not-replay"), std::string::npos) << text;
}

}  // namespace
}  // namespace bulwark::agent
