// Test harness: a private, real dockerd (Debian's docker.io) per suite.
//
// start() makes a temp dir holding the daemon's --data-root, --exec-root,
// --pidfile and unix socket, and runs `dockerd --storage-driver=vfs --bridge=none
// --iptables=false --ip6tables=false` as a child (dockerd starts its own managed
// containerd under the exec root). It waits for GET /_ping to answer. Images come
// from `docker import` of a busybox-static rootfs tarball built here (no registry,
// no network). The destructor removes every container, stops the daemon (SIGTERM,
// then SIGKILL), unmounts anything left under the temp dir and removes it.
//
// Machine facts (DESIGN §10, the CI machines): `docker run --privileged` cannot
// start; use --cap-add ALL --cap-drop SYS_RESOURCE --security-opt
// seccomp=unconfined when privileged-equivalent is needed. Containers run with
// --network none (no bridge).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "attest/core/error.h"
#include "tests/support/swtpm.h"  // CommandResult, runCommand

namespace bulwark::testing {

class Dockerd {
 public:
  // kUnavailable (with the reason) when dockerd/docker/busybox are missing, we are
  // not root, or the daemon does not come up (its log tail is in the message).
  [[nodiscard]] static Result<std::unique_ptr<Dockerd>> start();
  ~Dockerd();
  Dockerd(const Dockerd&) = delete;
  Dockerd& operator=(const Dockerd&) = delete;

  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/docker.sock"; }
  std::string execRoot() const { return dir_ + "/exec"; }
  // runc state of Docker's containers (<exec-root>/runtime-runc/moby/<id>/state.json).
  std::string runcStateRoot() const { return execRoot() + "/runtime-runc/moby"; }
  // containerd task bundles of dockerd's managed containerd (its state dir is
  // <exec-root>/containerd/daemon).
  std::string containerdTaskRoot() const {
    return execRoot() + "/containerd/daemon/io.containerd.runtime.v2.task";
  }
  pid_t pid() const { return pid_; }

  // `docker rm -f` of every container (between tests; stop() does it too).
  void removeAllContainers() const;
  // Runs `docker -H unix://<socket> <args>` (Debian's /usr/bin/docker).
  CommandResult docker(const std::string& args) const;
  // Builds a busybox-static rootfs tarball and `docker import`s it as `tag`;
  // returns the image ID ("sha256:<64 hex>").
  [[nodiscard]] Result<std::string> importBusybox(const std::string& tag) const;

 private:
  Dockerd() = default;
  Result<void> waitReady();
  void stop();

  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace bulwark::testing
