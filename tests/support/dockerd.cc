#include "tests/support/dockerd.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace bulwark::testing {

namespace {

namespace fs = std::filesystem;
constexpr const char* kDockerd = "/usr/sbin/dockerd";
constexpr const char* kDocker = "/usr/bin/docker";
constexpr const char* kBusybox = "/bin/busybox";

std::string tail(const std::string& path, std::size_t n = 2000) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// Mount points under `dir`, deepest first (from /proc/self/mountinfo field 5).
std::vector<std::string> mountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (f >> id >> parent >> devno >> root >> mount_point && mount_point.starts_with(dir + "/")) {
      out.push_back(mount_point);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

}  // namespace

Result<std::unique_ptr<Dockerd>> Dockerd::start() {
  if (::geteuid() != 0) return fail(ErrorCode::kUnavailable, "dockerd needs root");
  for (const char* bin : {kDockerd, kDocker, kBusybox}) {
    if (::access(bin, X_OK) != 0) {
      return fail(
          ErrorCode::kUnavailable,
          std::string(bin) + " missing (scripts/deps.sh installs docker.io, busybox-static)");
    }
  }
  std::unique_ptr<Dockerd> d(new Dockerd());
  // Short base path: containerd's sockets live under the exec root (sun_path ≤ 107).
  std::string tmpl = "/tmp/bwd-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(ErrorCode::kIo, "mkdtemp failed");
  d->dir_ = tmpl;
  std::vector<std::string> args = {kDockerd,
                                   "--data-root=" + d->dir_ + "/data",
                                   "--exec-root=" + d->execRoot(),
                                   "--pidfile=" + d->dir_ + "/dockerd.pid",
                                   "--host=unix://" + d->socket(),
                                   "--storage-driver=vfs",
                                   "--bridge=none",
                                   "--iptables=false",
                                   "--ip6tables=false",
                                   "--ip-masq=false",
                                   "--userland-proxy=false",
                                   "--log-level=warn"};
  std::string log = d->dir_ + "/dockerd.log";
  pid_t pid = ::fork();
  if (pid < 0) return fail(ErrorCode::kIo, "fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(kDockerd, argv.data());
    ::_exit(127);
  }
  d->pid_ = pid;
  if (auto r = d->waitReady(); !r) return std::unexpected(r.error());
  return d;
}

Result<void> Dockerd::waitReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return fail(ErrorCode::kUnavailable, "dockerd exited: " + tail(dir_ + "/dockerd.log"));
    }
    auto ping = runCommand("curl -sf --max-time 2 --unix-socket " + socket() + " http://d/_ping");
    if (ping.exit_code == 0 && ping.output == "OK") return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return fail(ErrorCode::kUnavailable,
              "dockerd did not answer /_ping: " + tail(dir_ + "/dockerd.log"));
}

CommandResult Dockerd::docker(const std::string& args) const {
  return runCommand(std::string(kDocker) + " -H unix://" + socket() + " " + args);
}

Result<std::string> Dockerd::importBusybox(const std::string& tag) const {
  std::string rootfs = dir_ + "/rootfs-" + std::to_string(::getpid());
  std::error_code ec;
  fs::create_directories(rootfs + "/bin", ec);
  if (ec) return fail(ErrorCode::kIo, ec.message(), rootfs);
  fs::copy_file(kBusybox, rootfs + "/bin/busybox", fs::copy_options::overwrite_existing, ec);
  if (ec) return fail(ErrorCode::kIo, ec.message(), kBusybox);
  for (const char* applet : {"sh", "sleep", "cat", "ls"}) {
    fs::create_symlink("busybox", rootfs + "/bin/" + applet, ec);
  }
  std::string tar = dir_ + "/" + tag.substr(0, tag.find(':')) + ".tar";
  auto packed = runCommand("tar -C " + rootfs + " -cf " + tar + " .");
  if (packed.exit_code != 0) return fail(ErrorCode::kIo, "tar: " + packed.output);
  auto imported = docker("import " + tar + " " + tag + " 2>&1");
  if (imported.exit_code != 0)
    return fail(ErrorCode::kUnavailable, "docker import: " + imported.output);
  auto id = docker("image inspect --format '{{.Id}}' " + tag);
  if (id.exit_code != 0) return fail(ErrorCode::kUnavailable, "docker image inspect: " + id.output);
  std::string out = id.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

void Dockerd::removeAllContainers() const {
  (void)docker("rm -f $(" + std::string(kDocker) + " -H unix://" + socket() +
               " ps -aq) >/dev/null 2>&1");
}

void Dockerd::stop() {
  if (pid_ > 0) {
    removeAllContainers();
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    for (const auto& m : mountsUnder(dir_)) ::umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Dockerd::~Dockerd() { stop(); }

}  // namespace bulwark::testing
