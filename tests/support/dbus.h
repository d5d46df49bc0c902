// Test harness: a private dbus-daemon per suite, for sd-bus code (DESIGN §10).
// start() runs `dbus-daemon --session --address=unix:path=<tmp>/bus --nofork
// --print-address` as a child, reads the address it prints (so the bus is ready),
// and the destructor stops it and removes the temp dir. Nothing touches the
// system bus; PID 1 on the CI machines is not systemd, so tests register their own
// fake org.freedesktop.systemd1 objects on this bus.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "attest/core/error.h"

namespace bulwark::testing {

class DbusDaemon {
 public:
  [[nodiscard]] static Result<std::unique_ptr<DbusDaemon>> start();
  ~DbusDaemon();
  DbusDaemon(const DbusDaemon&) = delete;
  DbusDaemon& operator=(const DbusDaemon&) = delete;

  // The address as dbus-daemon printed it ("unix:path=...,guid=...").
  const std::string& address() const { return address_; }
  const std::string& dir() const { return dir_; }

 private:
  DbusDaemon() = default;
  std::string dir_;
  std::string address_;
  pid_t pid_ = -1;
};

}  // namespace bulwark::testing
