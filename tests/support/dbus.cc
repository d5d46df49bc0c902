#include "tests/support/dbus.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

namespace bulwark::testing {

namespace {
constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";

// Reads one line from `fd` within `ms`.
std::string readLine(int fd, int ms) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) break;
    if (c == '\n') return line;
    line += c;
  }
  return {};
}
}  // namespace

Result<std::unique_ptr<DbusDaemon>> DbusDaemon::start() {
  if (::access(kDbusDaemon, X_OK) != 0) {
    return fail(ErrorCode::kUnavailable, "dbus-daemon missing (scripts/deps.sh installs dbus)");
  }
  std::unique_ptr<DbusDaemon> d(new DbusDaemon());
  std::string tmpl = "/tmp/bulwark-dbus-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed");
  d->dir_ = tmpl;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail(ErrorCode::kIo, "pipe failed");
  std::string address_arg = "--address=unix:path=" + d->dir_ + "/bus";
  std::string log = d->dir_ + "/dbus.log";
  pid_t pid = ::fork();
  if (pid < 0) return fail(ErrorCode::kIo, "fork failed");
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) ::dup2(fd, 2);
    std::vector<char*> argv = {
        const_cast<char*>(kDbusDaemon), const_cast<char*>("--session"),       address_arg.data(),
        const_cast<char*>("--nofork"),  const_cast<char*>("--print-address"), nullptr};
    ::execv(kDbusDaemon, argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  d->pid_ = pid;
  d->address_ = readLine(pipefd[0], 10000);
  ::close(pipefd[0]);
  if (d->address_.empty()) return fail(ErrorCode::kUnavailable, "dbus-daemon printed no address");
  return d;
}

DbusDaemon::~DbusDaemon() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) != pid_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (i == 49) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace bulwark::testing
