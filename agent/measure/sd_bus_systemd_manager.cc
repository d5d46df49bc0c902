#include "agent/measure/sd_bus_systemd_manager.h"

#include <systemd/sd-bus.h>

#include <cstring>

namespace bulwark::agent {

namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerIface = "org.freedesktop.systemd1.Manager";
constexpr const char* kServiceIface = "org.freedesktop.systemd1.Service";

std::unexpected<Error> busError(int r, const sd_bus_error* e, const std::string& op) {
  std::string msg = e && e->message ? e->message : std::strerror(-r);
  if (e && e->name) msg = std::string(e->name) + ": " + msg;
  return fail(ErrorCode::kUnavailable, msg, op);
}

// RAII for sd_bus_message / sd_bus_error.
struct Reply {
  sd_bus_message* m = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  ~Reply() {
    sd_bus_message_unref(m);
    sd_bus_error_free(&error);
  }
};

Result<std::unique_ptr<SdBusSystemdManager>> finishOpen(sd_bus* bus, int r, const std::string& what,
                                                        auto make) {
  if (r < 0) {
    sd_bus_unref(bus);
    return busError(r, nullptr, what);
  }
  return make(bus);
}

// ExecStart a(sasbttttuii): keeps each command's path.
Result<std::vector<std::string>> readExecStart(sd_bus_message* m) {
  std::vector<std::string> paths;
  int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "(sasbttttuii)");
  if (r < 0) return busError(r, nullptr, "ExecStart");
  while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_STRUCT, "sasbttttuii")) > 0) {
    const char* path = nullptr;
    if ((r = sd_bus_message_read(m, "s", &path)) < 0) return busError(r, nullptr, "ExecStart path");
    if (path && *path) paths.emplace_back(path);
    if ((r = sd_bus_message_skip(m, "asbttttuii")) < 0) return busError(r, nullptr, "ExecStart");
    if ((r = sd_bus_message_exit_container(m)) < 0) return busError(r, nullptr, "ExecStart");
  }
  if (r < 0) return busError(r, nullptr, "ExecStart");
  sd_bus_message_exit_container(m);
  return paths;
}

}  // namespace

Result<std::unique_ptr<SdBusSystemdManager>> SdBusSystemdManager::connectSystem() {
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  return finishOpen(bus, r, "sd_bus_open_system", [](sd_bus* b) {
    return std::unique_ptr<SdBusSystemdManager>(new SdBusSystemdManager(b));
  });
}

Result<std::unique_ptr<SdBusSystemdManager>> SdBusSystemdManager::connectAddress(
    const std::string& address) {
  sd_bus* bus = nullptr;
  int r = sd_bus_new(&bus);
  if (r < 0) return busError(r, nullptr, "sd_bus_new");
  if ((r = sd_bus_set_address(bus, address.c_str())) >= 0 &&
      (r = sd_bus_set_bus_client(bus, 1)) >= 0) {
    r = sd_bus_start(bus);
  }
  return finishOpen(bus, r, "sd_bus_start " + address, [](sd_bus* b) {
    return std::unique_ptr<SdBusSystemdManager>(new SdBusSystemdManager(b));
  });
}

SdBusSystemdManager::~SdBusSystemdManager() { sd_bus_flush_close_unref(bus_); }

Result<void> SdBusSystemdManager::readService(const std::string& object_path, ServiceUnit& unit) {
  Reply exec;
  int r = sd_bus_get_property(bus_, kDest, object_path.c_str(), kServiceIface, "ExecStart",
                              &exec.error, &exec.m, "a(sasbttttuii)");
  if (r < 0) return busError(r, &exec.error, unit.name + " ExecStart");
  auto paths = readExecStart(exec.m);
  if (!paths) return std::unexpected(paths.error());
  unit.exec_paths = std::move(*paths);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  std::uint32_t pid = 0;
  r = sd_bus_get_property_trivial(bus_, kDest, object_path.c_str(), kServiceIface, "MainPID",
                                  &error, 'u', &pid);
  if (r < 0) {
    auto e = busError(r, &error, unit.name + " MainPID");
    sd_bus_error_free(&error);
    return e;
  }
  unit.main_pid = static_cast<pid_t>(pid);
  return {};
}

Result<std::vector<ServiceUnit>> SdBusSystemdManager::listServices() {
  Reply list;
  int r = sd_bus_call_method(bus_, kDest, kManagerPath, kManagerIface, "ListUnits", &list.error,
                             &list.m, "");
  if (r < 0) return busError(r, &list.error, "ListUnits");
  // a(ssssssouso): name, description, load, active, sub, following, path, job id/type/path.
  if ((r = sd_bus_message_enter_container(list.m, SD_BUS_TYPE_ARRAY, "(ssssssouso)")) < 0) {
    return busError(r, nullptr, "ListUnits reply");
  }
  std::vector<std::pair<ServiceUnit, std::string>> found;
  for (;;) {
    const char *name, *desc, *load, *active, *sub, *following, *path, *job_type, *job_path;
    std::uint32_t job_id = 0;
    r = sd_bus_message_read(list.m, "(ssssssouso)", &name, &desc, &load, &active, &sub, &following,
                            &path, &job_id, &job_type, &job_path);
    if (r < 0) return busError(r, nullptr, "ListUnits reply");
    if (r == 0) break;
    std::string unit_name = name;
    if (!unit_name.ends_with(".service")) continue;
    ServiceUnit u;
    u.name = unit_name;
    u.active_state = active;
    found.emplace_back(std::move(u), path);
  }
  std::vector<ServiceUnit> out;
  for (auto& [unit, path] : found) {
    // A unit that vanished between the two calls is skipped, not an error.
    if (readService(path, unit)) out.push_back(std::move(unit));
  }
  return out;
}

}  // namespace bulwark::agent
