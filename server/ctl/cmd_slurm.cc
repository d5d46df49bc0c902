// bulwarkctl slurm-healthcheck — a Slurm HealthCheckProgram (DESIGN §7, docs/slurm.md).
//
//   bulwarkctl [--verifier URL --cacert FILE] slurm-healthcheck [--node NAME] [--config FILE]
//              [--dry-run] [--scontrol PATH] [--timeout SECONDS]
//
// Runs as root on a compute node (slurmd starts it every HealthCheckInterval). It asks the
// verifier whether this node is trusted *now* (GET /v1/verdicts/{node}; GET
// /v1/nodes/{node} on verifiers without that route) and keeps Slurm in line:
//   not trusted (untrusted, stale, unknown, revoked) or verifier unreachable/erroring
//     -> scontrol update NodeName=X State=DRAIN Reason="bulwark: <why>"  (fail closed)
//   trusted -> State=RESUME, only if the node is drained and its reason starts with
//     "bulwark:" — a node an admin drained for another reason is never resumed.
// Idempotent: a node already drained with the same reason is not updated; a node an
// admin drained is left as it is (it is not schedulable either way).
// Exit 0 for every handled outcome (Slurm only logs it); 2 for usage/configuration
// errors and when Slurm could not be read or updated.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/ctl/command.h"
#include "server/ctl/http_client.h"

extern char** environ;

namespace bulwark::ctl {
namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kDefaultConfig = "/etc/bulwark/ctl.yaml";
constexpr const char* kPrefix = "bulwark:";
constexpr std::size_t kMaxReason = 200;

// ---- pure: verdicts, Slurm node text, the decision ----

struct Verdict {
  bool trusted = false;
  std::string state;   // trusted | untrusted | stale | unknown | revoked | enrolling | unreachable
  std::string reason;  // drain reason without the prefix; stable across runs
};

// The part of `scontrol show node NAME` the decision needs.
struct SlurmNode {
  std::string state;   // e.g. "IDLE+DRAIN", "MIXED+DRAIN", "DOWN*+DRAIN"
  std::string reason;  // without Slurm's " [user@time]" suffix; "" when none
  bool drain() const {
    // State is BASE[+FLAG...]; draining and drained nodes both carry the DRAIN flag.
    return std::regex_search(state, std::regex(R"((^|\+)DRAIN(\+|$))"));
  }
  bool drainedByUs() const { return drain() && reason.starts_with(kPrefix); }
};

enum class Action { kNone, kDrain, kResume };

struct Plan {
  Action action = Action::kNone;
  std::string reason;  // full Slurm reason for kDrain
  std::string why;     // one line for the log
};

// Slurm reasons are single-line text; keep them short and printable.
std::string drainReason(const Verdict& v) {
  std::string why = v.reason;
  if (why.starts_with(kPrefix)) why = why.substr(std::string_view(kPrefix).size());
  while (!why.empty() && why.front() == ' ') why.erase(0, 1);
  std::string out = std::string(kPrefix) + " " + (why.empty() ? v.state : why);
  for (char& c : out) c = (c < 0x20 || c == 0x7f) ? ' ' : c;
  if (out.size() > kMaxReason) out.resize(kMaxReason);
  // Slurm shows the reason trimmed; an untrimmed one would never compare equal.
  while (out.back() == ' ') out.pop_back();
  return out;
}

// A string member of a verifier answer, "" when absent or of another type (json::value
// would throw on a wrong type, and the answer is untrusted input).
std::string field(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Plan decide(const Verdict& v, const SlurmNode& n) {
  if (v.trusted) {
    if (n.drainedByUs()) return {Action::kResume, {}, "trusted again: lifting Bulwark's drain"};
    if (n.drain()) {
      return {Action::kNone,
              {},
              "trusted, but drained for another reason (\"" + n.reason + "\"): left to the admin"};
    }
    return {Action::kNone, {}, "trusted: nothing to do"};
  }
  std::string reason = drainReason(v);
  if (n.drain() && n.reason == reason) return {Action::kNone, reason, "already drained: " + reason};
  if (n.drain() && !n.drainedByUs()) {
    return {Action::kNone, reason,
            "not trusted, already drained for another reason (\"" + n.reason + "\"): reason kept"};
  }
  return {Action::kDrain, reason, "not trusted: draining"};
}

// `scontrol show node NAME` (multi-line or -o): "State=" and "Reason=" fields.
std::optional<SlurmNode> parseSlurmNode(const std::string& text) {
  static const std::regex kState(R"((^|\s)State=(\S+))");
  static const std::regex kReason(R"((^|\s)Reason=([^\n]*))");
  static const std::regex kStamp(R"(\s*\[[^\]\[]*@[^\]\[]*\]\s*$)");
  std::smatch m;
  if (!std::regex_search(text, m, kState)) return std::nullopt;
  SlurmNode n{m[2].str(), {}};
  if (std::regex_search(text, m, kReason)) n.reason = std::regex_replace(m[2].str(), kStamp, "");
  while (!n.reason.empty() && std::isspace(static_cast<unsigned char>(n.reason.back()))) {
    n.reason.pop_back();
  }
  if (n.reason == "(null)" || n.reason == "None") n.reason.clear();
  return n;
}

// GET /v1/verdicts/{name}: {"node","trusted","state","reason","fresh_until","checked_at"}.
// Anything but an explicit boolean true with state "trusted" for this node is "not trusted".
Verdict verdictFromVerdicts(const json& j, const std::string& name) {
  if (!j.is_object() || !j.contains("trusted") || !j["trusted"].is_boolean() ||
      (j.contains("node") && j["node"] != name)) {
    return {false, "malformed", "verifier answer malformed"};
  }
  std::string state = field(j, "state");
  if (j["trusted"].get<bool>() && state == "trusted") return {true, state, {}};
  if (state.empty() || state == "trusted") state = "untrusted";  // inconsistent: not trusted
  std::string reason = field(j, "reason");
  if (state == "stale") {
    // The server's text may count seconds; a stable reason keeps the check idempotent.
    std::string until = field(j, "fresh_until");
    reason = until.empty() ? "stale (no fresh verdict)" : "stale since " + until;
  }
  return {false, state, reason.empty() ? state : reason};
}

// GET /v1/nodes/{name} (docs/api.md): state + reasons[{code, detail}].
Verdict verdictFromNode(const json& j) {
  std::string state = field(j, "state");
  if (state.empty()) return {false, "malformed", "verifier answer malformed"};
  if (state == "trusted") return {true, state, {}};
  std::string reason = state;
  if (state == "stale") {
    std::string until = field(j, "fresh_until");
    reason = until.empty() ? "stale (no fresh verdict)" : "stale since " + until;
  } else if (j.contains("reasons") && j["reasons"].is_array() && !j["reasons"].empty()) {
    const json& r = j["reasons"][0];
    reason += ": " + field(r, "code") + " " + field(r, "detail");
  }
  return {false, state, reason};
}

bool validNodeName(const std::string& n) {
  static const std::regex kName(R"([A-Za-z0-9_][A-Za-z0-9._-]{0,252})");
  return std::regex_match(n, kName);
}

// ---- edges: scontrol as a process, the verifier over HTTPS ----

struct ProcessOutput {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

// Runs argv (PATH lookup) with `env` entries added, stdin /dev/null, killing it after
// `timeout`. kUnavailable when it cannot start or times out.
Result<ProcessOutput> runProcess(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env_extra,
                                 std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorCode::kIo, "pipe failed", argv[0]);
  std::vector<std::string> env_store(env_extra);
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
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return fail(ErrorCode::kUnavailable, std::string("cannot run: ") + std::strerror(rc), argv[0]);
  }
  ProcessOutput out;
  auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // EOF: the child closed its output
    if (out.output.size() < (1u << 20)) out.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  // The child may close its output and still hang: the deadline covers the wait too.
  int status = 0;
  pid_t waited = 0;
  while (!timed_out && (waited = ::waitpid(pid, &status, WNOHANG)) == 0) {
    timed_out = Clock::now() >= deadline;
    if (!timed_out) ::usleep(10000);
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return fail(ErrorCode::kUnavailable,
                "timed out after " + std::to_string(timeout.count()) + " ms", argv[0]);
  }
  if (waited != pid) return fail(ErrorCode::kIo, "waitpid failed", argv[0]);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

struct Settings {
  std::string verifier, cacert, cert, key, token;
  std::string node;
  std::string config = kDefaultConfig;
  std::string scontrol = "scontrol";
  std::string slurm_conf;  // SLURM_CONF for scontrol; "" = inherit
  int timeout_s = 10;
  bool dry_run = false;
};

Settings& settings() {
  static Settings s;
  return s;
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

// A root option registered by another command group (cmd_nodes.cc): its value when it
// was given on the command line or through its environment variable.
std::optional<std::string> given(CLI::App& app, const std::string& name) {
  CLI::Option* o = app.get_option_no_throw(name);
  if (o == nullptr || o->count() == 0 || o->results().empty()) return std::nullopt;
  return o->results().front();
}

// ctl.yaml: a flat YAML mapping of scalars (`key: value`, `#` comments), read with
// CLI11's config reader. Unknown keys are errors so a typo never goes unnoticed.
Result<std::map<std::string, std::string>> loadConfig(const std::string& path, bool required) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  if (!in) {
    if (!required) return out;  // no /etc/bulwark/ctl.yaml: flags only
    return fail(ErrorCode::kNotFound, "cannot read configuration", path);
  }
  CLI::ConfigBase reader;
  reader.valueSeparator(':');
  std::vector<CLI::ConfigItem> items;
  try {
    items = reader.from_config(in);
  } catch (const CLI::Error& e) {
    return fail(ErrorCode::kMalformed, e.what(), path);
  }
  static const std::set<std::string> kKeys = {"verifier",   "cacert",   "cert",       "key",
                                              "token_file", "scontrol", "slurm_conf", "timeout"};
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    if (!kKeys.contains(item.name) || !item.parents.empty() || item.inputs.size() != 1) {
      return fail(ErrorCode::kInvalidArgument, "unknown or non-scalar key '" + item.name + "'",
                  path);
    }
    std::string v = item.inputs.front();
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    out[item.name] = v;
  }
  return out;
}

// Flags and $BULWARK_* win over the file; the file wins over built-in defaults.
Result<void> resolveSettings(CLI::App& app, const CLI::App& sub, Settings& s) {
  auto file = loadConfig(s.config, sub.count("--config") > 0);
  if (!file) return std::unexpected(file.error());
  auto pick = [&](const std::string& flag, const std::string& key, std::string& out) {
    if (auto v = given(app, flag)) {
      out = *v;
    } else if (file->contains(key)) {
      out = file->at(key);
    }
  };
  pick("--verifier", "verifier", s.verifier);
  pick("--cacert", "cacert", s.cacert);
  pick("--cert", "cert", s.cert);
  pick("--key", "key", s.key);
  if (auto v = given(app, "--token")) {
    s.token = *v;
  } else if (file->contains("token_file")) {
    std::ifstream t(file->at("token_file"));
    if (!t) return fail(ErrorCode::kNotFound, "cannot read token_file", file->at("token_file"));
    std::getline(t, s.token);
    s.token = trimmed(s.token);
  }
  if (sub.count("--scontrol") == 0 && file->contains("scontrol")) s.scontrol = file->at("scontrol");
  if (file->contains("slurm_conf")) s.slurm_conf = file->at("slurm_conf");
  if (sub.count("--timeout") == 0 && file->contains("timeout")) {
    std::string t = file->at("timeout");
    if (!std::regex_match(t, std::regex("[1-9][0-9]{0,2}s?"))) {
      return fail(ErrorCode::kInvalidArgument, "timeout: seconds 1..999", s.config);
    }
    s.timeout_s = std::stoi(t);
  }
  if (s.verifier.empty()) {
    return fail(ErrorCode::kInvalidArgument,
                "no verifier URL: set `verifier:` in " + s.config + " or pass --verifier");
  }
  return {};
}

void say(const std::string& node, const std::string& line) {
  std::printf("bulwark slurm-healthcheck: node %s: %s\n", node.c_str(), line.c_str());
  std::fflush(stdout);
}

struct Asked {
  Verdict verdict;
  bool config_error = false;  // the verifier refused our credentials / bad TLS material
};

std::string errorCode(const HttpReply& r) {
  return field(json::parse(r.body, nullptr, false), "error");
}

// Asks the verifier; every failure is a not-trusted verdict (fail closed).
Asked askVerifier(const Settings& s, const std::string& node) {
  const Verdict unreachable{false, "unreachable", "verifier unreachable"};
  auto client = HttpClient::create(
      {s.verifier, s.cacert, s.cert, s.key, s.token, std::chrono::seconds(s.timeout_s)});
  if (!client) {
    say(node, "cannot set up the verifier client: " + client.error().toString());
    return {unreachable, true};
  }
  std::string via = "/v1/verdicts/" + node;
  auto reply = (*client)->request("GET", via);
  // Verifiers without the REST verdict route (501, or the HTTP layer's 404) still
  // have the node view; "node-unknown" is a real answer, not a missing route.
  if (reply &&
      (reply->status == 501 || (reply->status == 404 && errorCode(*reply) != "node-unknown"))) {
    via = "/v1/nodes/" + node;
    reply = (*client)->request("GET", via);
  }
  if (!reply) {
    say(node, "verifier unreachable: " + reply.error().toString());
    return {unreachable};
  }
  if (reply->status == 404) return {{false, "unknown", "unknown to the verifier (never enrolled)"}};
  if (reply->status == 401 || reply->status == 403) {
    say(node, "verifier refused our credentials (HTTP " + std::to_string(reply->status) + ")");
    return {{false, "unreachable", "verifier refused credentials"}, true};
  }
  if (reply->status != 200) {
    say(node, "verifier answered HTTP " + std::to_string(reply->status) + " " + errorCode(*reply));
    return {{false, "unreachable", "verifier error (HTTP " + std::to_string(reply->status) + ")"}};
  }
  json j = json::parse(reply->body, nullptr, false);
  Verdict v = via.starts_with("/v1/verdicts/") ? verdictFromVerdicts(j, node) : verdictFromNode(j);
  say(node, "verifier (" + via + "): " + v.state + (v.reason.empty() ? "" : " — " + v.reason));
  return {v};
}

// Bounds the whole verifier conversation. HttpClient's timeout applies per step (name
// resolution is synchronous and unbounded; connect, handshake, send and receive each get
// the full timeout) and there may be two requests, so a verifier that answers slowly
// step by step must not keep the check running until slurmd kills it after 60 s: that
// would leave the node schedulable (fail open). The worker thread is abandoned on timeout;
// it holds only its own copies and dies with the process.
Asked askVerifierWithin(const Settings& s, const std::string& node) {
  auto promise = std::make_shared<std::promise<Asked>>();
  std::future<Asked> answer = promise->get_future();
  std::thread([promise, s, node] { promise->set_value(askVerifier(s, node)); }).detach();
  auto limit = std::chrono::seconds(2 * s.timeout_s + 1);
  if (answer.wait_for(limit) == std::future_status::ready) return answer.get();
  say(node, "verifier did not answer within " + std::to_string(limit.count()) + " s");
  return {{false, "unreachable", "verifier unreachable"}};
}

std::vector<std::string> slurmEnv(const Settings& s) {
  if (s.slurm_conf.empty()) return {};
  return {"SLURM_CONF=" + s.slurm_conf};
}

Result<SlurmNode> readSlurmNode(const Settings& s, const std::string& node) {
  auto r = runProcess({s.scontrol, "show", "node", node}, slurmEnv(s),
                      std::chrono::seconds(s.timeout_s));
  if (!r) return std::unexpected(r.error());
  if (r->exit_code != 0) {
    return fail(ErrorCode::kUnavailable, "scontrol show node failed: " + trimmed(r->output));
  }
  auto n = parseSlurmNode(r->output);
  if (!n) return fail(ErrorCode::kMalformed, "no State= in scontrol output: " + trimmed(r->output));
  return *n;
}

// Runs the update and reads the node back: success only when Slurm shows the result.
Result<SlurmNode> apply(const Settings& s, const std::string& node, const Plan& plan) {
  std::vector<std::string> argv = {s.scontrol, "update", "NodeName=" + node};
  if (plan.action == Action::kDrain) {
    argv.push_back("State=DRAIN");
    argv.push_back("Reason=" + plan.reason);
  } else {
    argv.push_back("State=RESUME");
  }
  auto r = runProcess(argv, slurmEnv(s), std::chrono::seconds(s.timeout_s));
  if (!r) return std::unexpected(r.error());
  if (r->exit_code != 0) {
    return fail(ErrorCode::kUnavailable, "scontrol update failed: " + trimmed(r->output));
  }
  auto after = readSlurmNode(s, node);
  if (!after) return after;
  bool done = plan.action == Action::kDrain ? after->drain() && after->reason == plan.reason
                                            : !after->drain();
  if (!done) {
    return fail(ErrorCode::kUnavailable, "Slurm does not show the update: State=" + after->state +
                                             " Reason=" + after->reason);
  }
  return after;
}

std::string localNodeName() {
  if (const char* n = std::getenv("SLURMD_NODENAME"); n != nullptr && *n != '\0') return n;
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  std::string h(buf);
  return h.substr(0, h.find('.'));
}

int runHealthcheck(CLI::App& app, const CLI::App& sub) {
  Settings& s = settings();
  if (s.node.empty()) s.node = localNodeName();
  if (!validNodeName(s.node)) {
    std::fprintf(stderr, "ERROR node name '%s' is not a valid node name\n", s.node.c_str());
    return kExitError;
  }
  const std::string& node = s.node;
  int exit_code = kExitOk;
  Verdict verdict;
  if (auto r = resolveSettings(app, sub, s); !r) {
    // Misconfigured: still fail closed, and say so with a non-zero exit.
    std::fprintf(stderr, "ERROR %s\n", r.error().toString().c_str());
    verdict = {false, "unreachable", "health check misconfigured"};
    exit_code = kExitError;
  } else {
    Asked asked = askVerifierWithin(s, node);
    verdict = asked.verdict;
    if (asked.config_error) exit_code = kExitError;
  }
  auto current = readSlurmNode(s, node);
  if (!current) {
    std::fprintf(stderr, "ERROR %s\n", current.error().toString().c_str());
    return kExitError;
  }
  say(node, "slurm: State=" + current->state +
                (current->reason.empty() ? "" : " Reason=\"" + current->reason + "\""));
  Plan plan = decide(verdict, *current);
  if (plan.action == Action::kNone) {
    say(node, "no change (" + plan.why + ")");
    return exit_code;
  }
  std::string what =
      plan.action == Action::kDrain ? "drain, Reason=\"" + plan.reason + "\"" : "resume";
  if (s.dry_run) {
    say(node, "dry run: would " + what + " (" + plan.why + ")");
    return exit_code;
  }
  auto after = apply(s, node, plan);
  if (!after) {
    std::fprintf(stderr, "ERROR %s\n", after.error().toString().c_str());
    return kExitError;
  }
  say(node, (plan.action == Action::kDrain ? "drained" : "resumed") + std::string(": State=") +
                after->state + " (" + plan.why + ")");
  return exit_code;
}

const RegisterCommand kRegister([](CLI::App& app, int& exit_code) {
  Settings& s = settings();
  auto* sub = app.add_subcommand(
      "slurm-healthcheck",
      "Slurm HealthCheckProgram: drain this node unless the verifier trusts it now; resume "
      "only nodes Bulwark drained (docs/slurm.md)");
  sub->add_option("--node", s.node,
                  "Slurm node name (default: $SLURMD_NODENAME, else the short host name)");
  sub->add_option("--config", s.config, "bulwarkctl configuration (flat YAML)")
      ->capture_default_str();
  sub->add_flag("--dry-run", s.dry_run, "print what would change, change nothing");
  sub->add_option("--scontrol", s.scontrol, "scontrol binary")->capture_default_str();
  sub->add_option("--timeout", s.timeout_s, "seconds per verifier request / scontrol call")
      ->check(CLI::Range(1, 999))
      ->capture_default_str();
  sub->fallthrough();
  sub->callback([&app, &exit_code, sub] { exit_code = runHealthcheck(app, *sub); });
});

}  // namespace
}  // namespace bulwark::ctl
