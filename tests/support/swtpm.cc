#include "tests/support/swtpm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace bulwark::testing {

namespace {

bool portFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

bool canConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int pickPortPair() {
  std::random_device rd;
  std::uniform_int_distribution<int> dist(20000, 60000);
  for (int i = 0; i < 200; ++i) {
    int p = dist(rd) & ~1;
    if (portFree(p) && portFree(p + 1)) return p;
  }
  return -1;
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

CommandResult runCommand(const std::string& cmd, const std::string& cwd) {
  std::string full = "exec 2>&1; ";
  if (!cwd.empty()) full += "cd '" + cwd + "' && ";
  full += cmd;
  CommandResult result;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<std::unique_ptr<Swtpm>> Swtpm::start(const SwtpmOptions& options) {
  std::unique_ptr<Swtpm> tpm(new Swtpm());
  std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-swtpm-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed", tmpl);
  tpm->dir_ = tmpl;
  const std::string& d = tpm->dir_;
  std::filesystem::create_directories(d + "/ca");
  std::filesystem::create_directories(d + "/state");
  writeText(d + "/localca.conf", "statedir = " + d + "/ca\nsigningkey = " + d +
                                     "/ca/signkey.pem\nissuercert = " + d +
                                     "/ca/issuercert.pem\ncertserial = " + d + "/ca/certserial\n");
  writeText(d + "/localca.options",
            "--platform-manufacturer Bulwark\n--platform-version 2.1\n--platform-model swtpm\n");
  writeText(d + "/setup.conf", "create_certs_tool = /usr/bin/swtpm_localca\n"
                               "create_certs_tool_config = " + d + "/localca.conf\n"
                               "create_certs_tool_options = " + d + "/localca.options\n");
  CommandResult setup = runCommand("swtpm_setup --tpm2 --tpmstate " + d +
                                   "/state --create-ek-cert --config " + d +
                                   "/setup.conf --pcr-banks " + options.pcr_banks +
                                   " --logfile " + d + "/setup.log");
  if (setup.exit_code != 0) {
    return fail(ErrorCode::kUnavailable,
                "swtpm_setup failed (exit " + std::to_string(setup.exit_code) + "): " +
                    setup.output, d + "/setup.log");
  }
  if (auto launched = tpm->launch(); !launched) return std::unexpected(launched.error());
  return tpm;
}

Result<void> Swtpm::launch() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = pickPortPair();
    if (port_ < 0) return fail(ErrorCode::kUnavailable, "no free loopback port pair");
    std::string server = "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1";
    std::string ctrl = "type=tcp,port=" + std::to_string(port_ + 1) + ",bindaddr=127.0.0.1";
    std::string state = "dir=" + stateDir();
    std::string log = "file=" + dir_ + "/swtpm.log";
    pid_ = ::fork();
    if (pid_ < 0) return fail(ErrorCode::kIo, "fork failed");
    if (pid_ == 0) {
      ::execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state.c_str(), "--server",
               server.c_str(), "--ctrl", ctrl.c_str(), "--flags", "not-need-init,startup-clear",
               "--log", log.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (canConnect(port_) && canConnect(port_ + 1)) return {};
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // lost a port race or failed: try again with new ports
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
  }
  return fail(ErrorCode::kUnavailable, "swtpm did not start; see " + dir_ + "/swtpm.log");
}

void Swtpm::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

Result<void> Swtpm::restart() {
  stop();
  return launch();
}

Swtpm::~Swtpm() {
  stop();
  if (!dir_.empty() && std::getenv("BULWARK_KEEP_SWTPM") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string Swtpm::tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

CommandResult Swtpm::run(const std::string& cmd) const {
  return runCommand("export TPM2TOOLS_TCTI='" + tcti() + "'; " + cmd, dir_);
}

}  // namespace bulwark::testing
