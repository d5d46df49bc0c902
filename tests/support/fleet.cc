#include "tests/support/fleet.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"

extern char** environ;

namespace bulwark::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---- process helpers ----

std::string bulwarkBinary(const std::string& name) {
  const char* dir = std::getenv("BULWARK_BINARY_DIR");
  return dir ? std::string(dir) + "/bin/" + name : name;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string randomHex(std::size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  Bytes b(bytes);
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(bytes));
  return toHex(b);
}

pid_t spawnLogged(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                  const std::string& log) {
  if (argv.empty()) return -1;
  std::vector<std::string> env_store(extra_env);
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  std::vector<char*> env, args;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<std::string> argv_store(argv);
  for (auto& a : argv_store) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

int stopProcess(pid_t pid, int sig, std::chrono::milliseconds grace) {
  if (pid <= 0) return -1;
  ::kill(-pid, sig);
  ::kill(pid, sig);
  auto end = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;  // not our child (already reaped)
    std::this_thread::sleep_for(20ms);
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return 128 + SIGKILL;
}

bool processAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

// ---- fleet ----

Result<std::unique_ptr<Fleet>> Fleet::create(const FleetOptions& options) {
  std::unique_ptr<Fleet> f(new Fleet());
  f->options_ = options;
  std::string tmpl = (fs::temp_directory_path() / "bulwark-fleet-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed");
  f->dir_ = tmpl;
  f->admin_token_ = "admin-" + randomHex(16);
  f->scheduler_token_ = "sched-" + randomHex(16);
  std::ofstream(f->schedulerTokenFile()) << f->scheduler_token_ << "\n";
  ::chmod(f->schedulerTokenFile().c_str(), 0600);
  if (auto pki = f->makePki(); !pki) return std::unexpected(pki.error());
  return f;
}

Fleet::~Fleet() {
  for (auto& [name, n] : nodes_) stopAgent(name);
  stopVerifier();
  nodes_.clear();  // stops the swtpms
  if (!dir_.empty() && std::getenv("BULWARK_KEEP_FLEET") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Result<void> Fleet::makePki() {
  // The verifier's TLS server certificate for 127.0.0.1 under a private CA.
  auto pki = runCommand(
      "set -e; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout ca.key -out ca.pem -subj /CN=bulwark-fleet-test-ca -days 2; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
      "-out server.csr -subj /CN=127.0.0.1; printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile san.ext",
      dir_);
  if (pki.exit_code != 0) return fail(ErrorCode::kIo, "openssl PKI: " + pki.output);
  return {};
}

void Fleet::writeVerifierConfig() const {
  std::string roots, intermediates;
  for (const auto& [name, n] : nodes_) {
    roots += (roots.empty() ? "" : ", ") + n.swtpm->rootCaPem();
    intermediates += (intermediates.empty() ? "" : ", ") + n.swtpm->issuerCaPem();
  }
  std::ofstream out(dir_ + "/verifier.yaml");
  out << "listen: {address: 127.0.0.1, port: " << port_ << "}\n"
      << "tls: {cert: " << dir_ << "/server.pem, key: " << dir_ << "/server.key}\n"
      << "agent_ca: {cert: " << dir_ << "/agent-ca.pem, key: " << dir_
      << "/agent-ca.key, validity: 1d}\n"
      << "tokens:\n"
      << "  - {name: admin, role: admin, sha256: " << toHex(sha256(asBytes(admin_token_))) << "}\n"
      << "  - {name: scheduler, role: scheduler, sha256: "
      << toHex(sha256(asBytes(scheduler_token_))) << "}\n"
      << "database: {sqlite: " << dir_ << "/verifier.db}\n"
      << "verifier_key: " << dir_ << "/ear.key\n"
      << "freshness_ttl: " << options_.freshness_ttl_s << "s\n"
      << "enrollment: {ek_ca: [" << roots << "], ek_intermediates: [" << intermediates
      << "], auto_approve: true}\n"
      << "appraisal: {pcr_bank: sha256"
      << (options_.appraisal_extra.empty() ? "" : ", " + options_.appraisal_extra) << "}\n";
}

std::string Fleet::verifierLog() const {
  return readText(dir_ + "/verifier-" + std::to_string(launches_) + ".log");
}

Result<void> Fleet::startVerifier() {
  if (verifier_pid_ > 0) return {};
  writeVerifierConfig();
  ++launches_;
  std::string log = dir_ + "/verifier-" + std::to_string(launches_) + ".log";
  // A binary being relinked (a shared developer build) cannot be executed for a few
  // seconds: retry the spawn briefly; a missing binary still fails.
  for (int i = 0; i < 120 && verifier_pid_ <= 0; ++i) {
    if (i > 0) std::this_thread::sleep_for(500ms);
    verifier_pid_ = spawnLogged(
        {bulwarkBinary("bulwark-verifier"), "--config", dir_ + "/verifier.yaml"}, {}, log);
  }
  if (verifier_pid_ <= 0) return fail(ErrorCode::kUnavailable, "cannot spawn bulwark-verifier");
  static const std::regex port_re(R"re("msg":"listening".*"port":([0-9]+))re");
  for (int i = 0; i < 400; ++i) {
    std::smatch m;
    std::string text = readText(log);
    if (std::regex_search(text, m, port_re)) {
      port_ = std::stoi(m[1]);
      return {};
    }
    if (!processAlive(verifier_pid_)) break;
    std::this_thread::sleep_for(50ms);
  }
  stopVerifier();
  return fail(ErrorCode::kUnavailable, "bulwark-verifier did not start:\n" + readText(log));
}

void Fleet::stopVerifier() {
  if (verifier_pid_ <= 0) return;
  stopProcess(verifier_pid_, SIGTERM, 20s);
  verifier_pid_ = -1;
}

Result<void> Fleet::restartVerifier() {
  stopVerifier();
  return startVerifier();
}

CommandResult Fleet::ctl(const std::string& args) const {
  return runCommand("BULWARK_TOKEN=" + admin_token_ + " " + bulwarkBinary("bulwarkctl") +
                    " --verifier " + url() + " --cacert " + caFile() + " " + args);
}

std::string Fleet::get(const std::string& path, const std::string& token) const {
  const std::string& t = token.empty() ? admin_token_ : token;
  return runCommand("curl -sS --max-time 20 --cacert " + caFile() + " -H 'Authorization: Bearer " +
                    t + "' " + url() + path)
      .output;
}

const Fleet::Node* Fleet::node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::string Fleet::inspectSection() const {
  if (!options_.inspect) return "inspect: {enabled: false}\n";
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  return "inspect: {profiles_dir: " + std::string(src ? src : ".") + "/profiles}\n";
}

const Swtpm* Fleet::swtpm(const std::string& name) const {
  const Node* n = node(name);
  return n == nullptr ? nullptr : n->swtpm.get();
}

Result<void> Fleet::setFirmwareLog(const std::string& name, const std::string& path) const {
  if (node(name) == nullptr) return fail(ErrorCode::kNotFound, "no node " + name);
  static const std::regex fw_re(R"re(firmware_log: "[^"]*")re");
  std::string cfg = readText(agentConfig(name));
  if (!std::regex_search(cfg, fw_re)) return fail(ErrorCode::kMalformed, "no firmware_log key");
  cfg = std::regex_replace(cfg, fw_re, "firmware_log: \"" + path + "\"");
  std::ofstream out(agentConfig(name), std::ios::trunc);
  out << cfg;
  if (!out) return fail(ErrorCode::kIo, "cannot write " + agentConfig(name));
  return {};
}

std::string Fleet::measuredFile(const std::string& name) const {
  return dir_ + "/nodes/" + name + "/measured.conf";
}

std::string Fleet::agentConfig(const std::string& name) const {
  return dir_ + "/nodes/" + name + "/agent.yaml";
}

Result<void> Fleet::addNode(const std::string& name) {
  if (node(name) != nullptr) return {};
  auto tpm = Swtpm::start();
  if (!tpm) return std::unexpected(tpm.error());
  Node n{std::move(*tpm), dir_ + "/nodes/" + name};
  fs::create_directories(n.dir);
  if (auto r = restore(name); !r) return r;
  // The host collector always measures os-release, cmdline, kernel and modules;
  // runtime discovery is narrowed so tests do not depend on this host's daemons.
  std::ofstream(agentConfig(name))
      << "node: " << name << "\n"
      << "state_dir: " << n.dir << "/state\n"
      << "tpm: {tcti: \"" << n.swtpm->tcti() << "\"}\n"
      << "verifier: {url: \"" << url() << "\", ca_file: " << caFile()
      << ", timeout: 20s, firmware_log: \"\", ima_log: \"\"}\n"
      << "measure: {log: " << n.dir << "/measure.log, include: [" << measuredFile(name)
      << "], runtime_binaries: [no-such-runtime], docker_socket: \"\", oci_state_roots: [],"
      << " containerd_task_roots: [], systemd: false}\n"
      << inspectSection();
  nodes_.emplace(name, std::move(n));
  // The EK CA list is in the verifier's configuration.
  if (verifier_pid_ > 0) return restartVerifier();
  return {};
}

Result<void> Fleet::enrollNode(const std::string& name) {
  if (auto r = addNode(name); !r) return r;
  if (verifier_pid_ <= 0) return fail(ErrorCode::kUnavailable, "verifier not running");
  // The agent configuration names the verifier URL: rewrite it in case the port is new.
  std::string cfg = readText(agentConfig(name));
  cfg = std::regex_replace(cfg, std::regex("https://127\\.0\\.0\\.1:[0-9]+"), url());
  std::ofstream(agentConfig(name)) << cfg;
  auto r =
      runCommand(bulwarkBinary("bulwark-agent") + " --config " + agentConfig(name) + " enroll");
  if (r.exit_code != 0) {
    return fail(ErrorCode::kUnavailable,
                "enroll " + name + " exit " + std::to_string(r.exit_code) + ":\n" + r.output);
  }
  return {};
}

CommandResult Fleet::attestOnce(const std::string& name) const {
  return runCommand(bulwarkBinary("bulwark-agent") + " --config " + agentConfig(name) +
                    " attest --once");
}

Result<void> Fleet::startAgent(const std::string& name, int interval_s) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return fail(ErrorCode::kNotFound, "no node " + name);
  if (it->second.agent_pid > 0) return {};
  it->second.agent_pid = spawnLogged({bulwarkBinary("bulwark-agent"), "--config", agentConfig(name),
                                      "run", "--interval", std::to_string(interval_s)},
                                     {}, agentLog(name));
  if (it->second.agent_pid <= 0) return fail(ErrorCode::kUnavailable, "cannot spawn bulwark-agent");
  return {};
}

void Fleet::stopAgent(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || it->second.agent_pid <= 0) return;
  stopProcess(it->second.agent_pid, SIGTERM, 20s);
  it->second.agent_pid = -1;
}

std::string Fleet::agentLog(const std::string& name) const {
  return dir_ + "/nodes/" + name + "/run.log";
}

Result<void> Fleet::learnAndApprove(const std::string& name) const {
  for (const std::string& args : {"policy learn " + name, "policy approve --node " + name}) {
    auto r = ctl(args);
    if (r.exit_code != 0) {
      return fail(ErrorCode::kUnavailable, "bulwarkctl " + args + ": " + r.output);
    }
  }
  return {};
}

Result<void> Fleet::tamper(const std::string& name) const {
  std::ofstream out(measuredFile(name), std::ios::trunc);
  out << "setting = tampered " << randomHex(4) << "\n";
  if (!out) return fail(ErrorCode::kIo, "cannot write " + measuredFile(name));
  return {};
}

Result<void> Fleet::restore(const std::string& name) const {
  std::ofstream out(measuredFile(name), std::ios::trunc);
  out << "setting = 1\n";
  if (!out) return fail(ErrorCode::kIo, "cannot write " + measuredFile(name));
  return {};
}

Result<void> Fleet::restoreAndReapprove(const std::string& name) const {
  if (auto r = restore(name); !r) return r;
  auto first = attestOnce(name);
  if (first.exit_code != 0) {
    // The tampered digest is superseded in this boot's log: the operator accepts that
    // history for this node only (`bulwarkctl approve`), never as a fleet reference value.
    auto approved = ctl("approve " + name);
    if (approved.exit_code != 0) {
      return fail(ErrorCode::kUnavailable, "bulwarkctl approve " + name + ":\n" + approved.output);
    }
    first = attestOnce(name);
  }
  if (first.exit_code != 0) {
    return fail(ErrorCode::kUnavailable,
                "not affirming after restore + re-approval:\n" + first.output);
  }
  return {};
}

std::string Fleet::awaitVerdict(const std::string& name, const std::string& state,
                                std::chrono::milliseconds within) const {
  auto end = std::chrono::steady_clock::now() + within;
  std::string seen;
  for (;;) {
    auto j = nlohmann::json::parse(get("/v1/verdicts/" + name, scheduler_token_), nullptr, false);
    seen = j.is_object() && j.contains("state") && j["state"].is_string()
               ? j["state"].get<std::string>()
               : "error: " + j.dump();
    if (seen == state || std::chrono::steady_clock::now() >= end) return seen;
    std::this_thread::sleep_for(50ms);
  }
}

std::string Fleet::nodeState(const std::string& name) const {
  std::string body = get("/v1/nodes/" + name);
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("state") || !j["state"].is_string()) return "error: " + body;
  return j["state"].get<std::string>();
}

}  // namespace bulwark::testing
