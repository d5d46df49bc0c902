#include "tests/support/slurm.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/fleet.h"  // spawnLogged, stopProcess, readText
#include "tests/support/net.h"

namespace bulwark::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string shortHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string h(buf);
  return h.substr(0, h.find('.'));
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void sleepFor(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

Result<std::unique_ptr<SlurmCluster>> SlurmCluster::start(const SlurmOptions& options) {
  for (const char* tool : {"munged", "mungekey", "slurmctld", "slurmd", "scontrol", "sinfo"}) {
    if (runCommand(std::string("command -v ") + tool + " >/dev/null").exit_code != 0) {
      return fail(ErrorCode::kUnavailable,
                  std::string(tool) +
                      " not installed (scripts/deps.sh installs slurmctld slurmd "
                      "slurm-client munge)");
    }
  }
  std::unique_ptr<SlurmCluster> c(new SlurmCluster());
  c->options_ = options;
  c->node_ = shortHostname();
  std::string tmpl = (fs::temp_directory_path() / "bulwark-slurm-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed");
  c->dir_ = tmpl;
  // munged refuses a socket dir others cannot traverse, and a key others can read.
  ::chmod(c->dir_.c_str(), 0711);
  for (const char* sub : {"munge", "state", "spool", "log"})
    fs::create_directories(c->dir_ + "/" + sub);
  ::chmod((c->dir_ + "/munge").c_str(), 0711);
  c->ctld_port_ = freeLoopbackPort();
  c->slurmd_port_ = freeLoopbackPort();
  while (c->slurmd_port_ == c->ctld_port_) c->slurmd_port_ = freeLoopbackPort();
  if (c->ctld_port_ <= 0 || c->slurmd_port_ <= 0) return fail(ErrorCode::kIo, "no free port");
  if (auto r = c->startMunge(); !r) return std::unexpected(r.error());
  if (auto r = c->startSlurm(); !r) return std::unexpected(r.error());
  return c;
}

SlurmCluster::~SlurmCluster() {
  // Jobs a test left behind run under slurmstepd, outside slurmd's process group.
  if (slurmctld_ > 0) runCommand("SLURM_CONF=" + confPath() + " scancel --full -u root");
  stopSlurm();
  stopProcess(munged_, SIGTERM, 10s);
  if (!dir_.empty() && std::getenv("BULWARK_KEEP_SLURM") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Result<void> SlurmCluster::startMunge() {
  std::string key = dir_ + "/munge/munge.key";
  auto mk = runCommand("mungekey --create --keyfile " + key);
  if (mk.exit_code != 0) return fail(ErrorCode::kUnavailable, "mungekey: " + mk.output);
  // --force: munged warns about running as root and about /tmp's sticky-bit parent.
  munged_ = spawnLogged(
      {"munged", "--foreground", "--force", "--socket=" + dir_ + "/munge/socket",
       "--key-file=" + key, "--log-file=" + dir_ + "/log/munged.log",
       "--pid-file=" + dir_ + "/munge/munged.pid", "--seed-file=" + dir_ + "/munge/munged.seed"},
      {}, dir_ + "/log/munged.out");
  if (munged_ <= 0) return fail(ErrorCode::kUnavailable, "cannot spawn munged");
  for (int i = 0; i < 100; ++i) {
    auto probe = runCommand("munge -n -S " + dir_ + "/munge/socket | unmunge -S " + dir_ +
                            "/munge/socket >/dev/null");
    if (probe.exit_code == 0) return {};
    if (!processAlive(munged_)) break;
    sleepFor(100ms);
  }
  return fail(ErrorCode::kUnavailable, "munged did not come up:\n" + logs());
}

void SlurmCluster::writeConf() const {
  std::ofstream out(confPath());
  out << "# private test cluster (tests/support/slurm.h)\n"
      << "ClusterName=bulwarktest\n"
      << "SlurmctldHost=" << node_ << "(127.0.0.1)\n"  // no DNS: works without /etc/hosts
      << "SlurmctldPort=" << ctld_port_ << "\n"
      << "SlurmdPort=" << slurmd_port_ << "\n"
      << "SlurmUser=root\nSlurmdUser=root\n"
      << "AuthType=auth/munge\nCredType=cred/munge\n"
      << "AuthInfo=socket=" << dir_ << "/munge/socket\n"
      << "StateSaveLocation=" << dir_ << "/state\n"
      << "SlurmdSpoolDir=" << dir_ << "/spool\n"
      << "SlurmctldPidFile=" << dir_ << "/slurmctld.pid\n"
      << "SlurmdPidFile=" << dir_ << "/slurmd.pid\n"
      << "SlurmctldLogFile=" << dir_ << "/log/slurmctld.log\n"
      << "SlurmdLogFile=" << dir_ << "/log/slurmd.log\n"
      << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
      << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
      << "MpiDefault=none\nMailProg=/bin/true\n"
      << "SelectType=select/cons_tres\nReturnToService=2\n";
  if (!options_.health_check_program.empty()) {
    out << "HealthCheckProgram=" << options_.health_check_program << "\n"
        << "HealthCheckInterval=" << options_.health_check_interval_s << "\n"
        << "HealthCheckNodeState=ANY\n";
  }
  out << "NodeName=" << node_ << " NodeAddr=127.0.0.1 NodeHostname=" << node_ << " CPUs=1 State=UNKNOWN\n"
      << "PartitionName=debug Nodes=" << node_ << " Default=YES MaxTime=INFINITE State=UP\n";
}

Result<void> SlurmCluster::startSlurm() {
  writeConf();
  slurmctld_ = spawnLogged({"slurmctld", "-D", "-i"}, env(), dir_ + "/log/slurmctld.out");
  if (slurmctld_ <= 0) return fail(ErrorCode::kUnavailable, "cannot spawn slurmctld");
  slurmd_ = spawnLogged({"slurmd", "-D"}, env(), dir_ + "/log/slurmd.out");
  if (slurmd_ <= 0) return fail(ErrorCode::kUnavailable, "cannot spawn slurmd");
  return awaitReady();
}

Result<void> SlurmCluster::awaitReady() {
  auto end = std::chrono::steady_clock::now() + 60s;
  bool ping = false;
  while (std::chrono::steady_clock::now() < end) {
    if (!processAlive(slurmctld_) || !processAlive(slurmd_)) break;
    ping = ping || scontrol("ping").output.find("is UP") != std::string::npos;
    if (ping) {
      // Any state but unknown/down (a node drained before a restart stays drained).
      auto s = status();
      if (s && !s->state.empty() && !s->state.starts_with("unk") && !s->state.starts_with("down") &&
          s->state.find('*') == std::string::npos && s->state != "not_responding") {
        return {};
      }
    }
    sleepFor(200ms);
  }
  return fail(ErrorCode::kUnavailable, "slurm did not become ready:\n" + logs());
}

void SlurmCluster::stopSlurm() {
  stopProcess(slurmd_, SIGTERM, 15s);
  stopProcess(slurmctld_, SIGTERM, 15s);
  slurmd_ = slurmctld_ = -1;
}

Result<void> SlurmCluster::restart(const SlurmOptions& options) {
  stopSlurm();
  options_ = options;
  return startSlurm();
}

CommandResult SlurmCluster::scontrol(const std::string& args) const {
  return runCommand("SLURM_CONF=" + confPath() + " scontrol " + args);
}

Result<SlurmNodeStatus> SlurmCluster::status() const {
  auto r = runCommand("SLURM_CONF=" + confPath() + " sinfo -h -N -n " + node_ + " -o '%T|%E'");
  std::string line = trim(r.output);
  auto bar = line.find('|');
  if (r.exit_code != 0 || bar == std::string::npos || line.find('\n') != std::string::npos) {
    return fail(ErrorCode::kUnavailable, "sinfo: " + r.output);
  }
  SlurmNodeStatus s{line.substr(0, bar), line.substr(bar + 1)};
  if (s.reason == "none") s.reason.clear();
  return s;
}

std::string SlurmCluster::logs() const {
  std::string out;
  for (const char* f :
       {"munged.out", "munged.log", "slurmctld.out", "slurmctld.log", "slurmd.out", "slurmd.log"}) {
    std::string text = readText(dir_ + "/log/" + f);
    if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
    out += std::string("--- ") + f + "\n" + text;
  }
  return out;
}

}  // namespace bulwark::testing
