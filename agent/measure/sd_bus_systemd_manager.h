// SystemdManager over sd-bus: org.freedesktop.systemd1.Manager.ListUnits, then for
// each *.service the org.freedesktop.systemd1.Service properties ExecStart
// (a(sasbttttuii): path, argv, ...) and MainPID (u). Production uses the system bus;
// tests pass the address of a private dbus-daemon with a fake Manager on it.
#pragma once

#include <memory>
#include <string>

#include "agent/measure/systemd_manager.h"

struct sd_bus;

namespace bulwark::agent {

class SdBusSystemdManager final : public SystemdManager {
 public:
  // kUnavailable when the bus cannot be reached.
  [[nodiscard]] static Result<std::unique_ptr<SdBusSystemdManager>> connectSystem();
  [[nodiscard]] static Result<std::unique_ptr<SdBusSystemdManager>> connectAddress(
      const std::string& address);
  ~SdBusSystemdManager() override;
  SdBusSystemdManager(const SdBusSystemdManager&) = delete;
  SdBusSystemdManager& operator=(const SdBusSystemdManager&) = delete;

  Result<std::vector<ServiceUnit>> listServices() override;

 private:
  explicit SdBusSystemdManager(sd_bus* bus) : bus_(bus) {}
  Result<void> readService(const std::string& object_path, ServiceUnit& unit);
  sd_bus* bus_;
};

}  // namespace bulwark::agent
