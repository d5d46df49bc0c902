// What the runtime collector asks the service manager: which units run which
// executables under which main PID (org.freedesktop.systemd1, ListUnits and the
// Service properties ExecStart and MainPID). SdBusSystemdManager is the sd-bus
// implementation (system bus in production; tests register a fake Manager on a
// private dbus-daemon, because PID 1 on the CI machines is not systemd).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

struct ServiceUnit {
  std::string name;                     // "containerd.service"
  std::string active_state;             // "active", ...
  std::vector<std::string> exec_paths;  // ExecStart=: the path of each command line
  pid_t main_pid = 0;                   // 0 when the unit has no running main process
};

class SystemdManager {
 public:
  virtual ~SystemdManager() = default;
  // Loaded *.service units with their ExecStart paths and MainPID. kUnavailable
  // when the bus or systemd cannot be reached (the caller falls back to /proc);
  // a unit whose properties cannot be read is skipped, not an error.
  [[nodiscard]] virtual Result<std::vector<ServiceUnit>> listServices() = 0;
};

}  // namespace bulwark::agent
