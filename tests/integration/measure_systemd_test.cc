// Runtime discovery over sd-bus, tested against a fake systemd: PID 1 on the CI
// machines is not systemd, so this suite starts a private dbus-daemon
// (tests/support/dbus.h) and registers on it a small org.freedesktop.systemd1
// Manager (ListUnits) and Service objects (ExecStart, MainPID) with sd-bus'
// object vtables — the same wire shapes systemd serves. SdBusSystemdManager talks
// to it exactly as it talks to the system bus in production.
//
// Also: a "runtime" process started from a copy of a binary whose copy is then
// replaced on disk is reported as runtime-process with mismatch=on-disk-differs,
// and a unit whose process has vanished is a note while the cycle continues.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/measure/measurement_engine.h"
#include "agent/measure/runtime_collector.h"
#include "agent/measure/sd_bus_systemd_manager.h"
#include "tests/support/dbus.h"

namespace bulwark::agent {
namespace {

namespace fs = std::filesystem;
using bulwark::testing::DbusDaemon;

struct FakeUnit {
  std::string name;
  std::string object;
  std::string exec;
  std::uint32_t pid = 0;
};

// The fake org.freedesktop.systemd1 on the private bus, served on its own thread.
class FakeSystemd {
 public:
  explicit FakeSystemd(std::vector<FakeUnit> units) : units_(std::move(units)) {}
  ~FakeSystemd() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto* s : slots_) sd_bus_slot_unref(s);
    sd_bus_flush_close_unref(bus_);
  }
  Result<void> start(const std::string& address) {
    int r = sd_bus_new(&bus_);
    if (r >= 0) r = sd_bus_set_address(bus_, address.c_str());
    if (r >= 0) r = sd_bus_set_bus_client(bus_, 1);
    if (r >= 0) r = sd_bus_start(bus_);
    if (r >= 0) r = addObjects();
    if (r >= 0) r = sd_bus_request_name(bus_, "org.freedesktop.systemd1", 0);
    if (r < 0)
      return fail(ErrorCode::kUnavailable, std::string("fake systemd: ") + std::strerror(-r));
    thread_ = std::thread([this] {
      while (!stop_) {
        int p = sd_bus_process(bus_, nullptr);
        if (p > 0) continue;
        sd_bus_wait(bus_, 100'000);
      }
    });
    return {};
  }

 private:
  static int listUnits(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<FakeSystemd*>(userdata);
    sd_bus_message* reply = nullptr;
    sd_bus_message_new_method_return(m, &reply);
    sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
    for (const auto& u : self->units_) {
      sd_bus_message_append(reply, "(ssssssouso)", u.name.c_str(), "fake", "loaded", "active",
                            "running", "", u.object.c_str(), 0u, "", "/");
    }
    sd_bus_message_append(reply, "(ssssssouso)", "dbus.socket", "sock", "loaded", "active",
                          "running", "", "/org/freedesktop/systemd1/unit/dbus_2esocket", 0u, "",
                          "/");
    sd_bus_message_close_container(reply);
    int r = sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    return r;
  }
  const FakeUnit* unitAt(const char* path) const {
    for (const auto& u : units_) {
      if (u.object == path) return &u;
    }
    return nullptr;
  }
  static int execStart(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply,
                       void* userdata, sd_bus_error*) {
    const FakeUnit* u = static_cast<FakeSystemd*>(userdata)->unitAt(path);
    sd_bus_message_open_container(reply, 'a', "(sasbttttuii)");
    if (u) {
      sd_bus_message_open_container(reply, 'r', "sasbttttuii");
      sd_bus_message_append(reply, "s", u->exec.c_str());
      sd_bus_message_append_strv(reply, nullptr);
      sd_bus_message_append(reply, "bttttuii", 0, 0ull, 0ull, 0ull, 0ull, u->pid, 0, 0);
      sd_bus_message_close_container(reply);
    }
    return sd_bus_message_close_container(reply);
  }
  static int mainPid(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply,
                     void* userdata, sd_bus_error*) {
    const FakeUnit* u = static_cast<FakeSystemd*>(userdata)->unitAt(path);
    return sd_bus_message_append(reply, "u", u ? u->pid : 0u);
  }
  int addObjects() {
    static const sd_bus_vtable manager[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("ListUnits", "", "a(ssssssouso)", listUnits, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END};
    static const sd_bus_vtable service[] = {
        SD_BUS_VTABLE_START(0), SD_BUS_PROPERTY("ExecStart", "a(sasbttttuii)", execStart, 0, 0),
        SD_BUS_PROPERTY("MainPID", "u", mainPid, 0, 0), SD_BUS_VTABLE_END};
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(bus_, &slot, "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", manager, this);
    if (r < 0) return r;
    slots_.push_back(slot);
    for (const auto& u : units_) {
      if (u.exec.empty()) continue;  // a unit whose properties cannot be read
      r = sd_bus_add_object_vtable(bus_, &slot, u.object.c_str(),
                                   "org.freedesktop.systemd1.Service", service, this);
      if (r < 0) return r;
      slots_.push_back(slot);
    }
    return 0;
  }

  std::vector<FakeUnit> units_;
  sd_bus* bus_ = nullptr;
  std::vector<sd_bus_slot*> slots_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class MeasureSystemd : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bus = DbusDaemon::start();
    ASSERT_TRUE(bus.has_value()) << bus.error().toString();
    bus_ = std::move(*bus);
    dir_ = bus_->dir() + "/bin";
    fs::create_directories(dir_);
    // The "runtime": a copy of /bin/sleep named containerd, running as a child.
    fs::copy_file("/bin/sleep", dir_ + "/containerd");
    child_ = ::fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      ::execl((dir_ + "/containerd").c_str(), "containerd", "60", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::usleep(200'000);
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
  }
  std::vector<FakeUnit> units() const {
    return {{"containerd.service", "/org/freedesktop/systemd1/unit/containerd_2eservice",
             dir_ + "/containerd", static_cast<std::uint32_t>(child_)},
            {"kubelet.service", "/org/freedesktop/systemd1/unit/kubelet_2eservice",
             dir_ + "/kubelet", 999999},  // its process has vanished
            {"broken.service", "/org/freedesktop/systemd1/unit/broken_2eservice", "", 0}};
  }

  std::unique_ptr<DbusDaemon> bus_;
  std::string dir_;
  pid_t child_ = -1;
};

TEST_F(MeasureSystemd, ListServicesReadsExecStartAndMainPid) {
  FakeSystemd fake(units());
  ASSERT_TRUE(fake.start(bus_->address()).has_value());
  auto manager = SdBusSystemdManager::connectAddress(bus_->address());
  ASSERT_TRUE(manager.has_value()) << manager.error().toString();
  auto services = (*manager)->listServices();
  ASSERT_TRUE(services.has_value()) << services.error().toString();
  ASSERT_EQ(services->size(), 2u) << "broken.service skipped, dbus.socket is not a service";
  EXPECT_EQ((*services)[0].name, "containerd.service");
  ASSERT_EQ((*services)[0].exec_paths.size(), 1u);
  EXPECT_EQ((*services)[0].exec_paths[0], dir_ + "/containerd");
  EXPECT_EQ((*services)[0].main_pid, child_);
  EXPECT_EQ((*services)[1].main_pid, 999999);
}

TEST_F(MeasureSystemd, UnreachableBusIsUnavailable) {
  auto manager = SdBusSystemdManager::connectAddress("unix:path=" + bus_->dir() + "/nothing");
  ASSERT_FALSE(manager.has_value());
  EXPECT_EQ(manager.error().code(), ErrorCode::kUnavailable);
}

TEST_F(MeasureSystemd, ReplacedRuntimeBinaryIsAMismatchAndVanishedUnitsAreNotes) {
  FakeSystemd fake(units());
  ASSERT_TRUE(fake.start(bus_->address()).has_value());
  auto manager = SdBusSystemdManager::connectAddress(bus_->address());
  ASSERT_TRUE(manager.has_value());
  MeasureOptions o;
  o.host = false;
  o.runtime_binaries = {"containerd", "kubelet"};
  MeasureDeps deps;
  deps.systemd = manager->get();
  auto engine = MeasurementEngine::create(o, deps);
  ASSERT_TRUE(engine.has_value());

  auto before = (*engine)->runCycle();
  ASSERT_TRUE(before.has_value());
  const Measurement* proc = nullptr;
  for (const auto& m : before->measurements) {
    if (m.kind == kKindRuntimeProcess && m.subject == dir_ + "/containerd") proc = &m;
  }
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->attributes.at("unit"), "containerd.service");
  EXPECT_EQ(proc->attributes.count("mismatch"), 0u);
  std::string notes;
  for (const auto& n : before->notes) notes += n + "\n";
  EXPECT_NE(notes.find("process 999999 (kubelet.service) exited"), std::string::npos) << notes;

  // Replace the binary on disk (new inode, like a package upgrade) while it runs.
  { std::ofstream(dir_ + "/containerd.new", std::ios::binary) << "#!/bin/sh\necho upgraded\n"; }
  fs::rename(dir_ + "/containerd.new", dir_ + "/containerd");
  auto after = (*engine)->runCycle();
  ASSERT_TRUE(after.has_value());
  const Measurement* replaced = nullptr;
  for (const auto& m : after->measurements) {
    if (m.kind == kKindRuntimeProcess && m.subject == dir_ + "/containerd") replaced = &m;
  }
  ASSERT_NE(replaced, nullptr);
  EXPECT_EQ(replaced->attributes.at("mismatch"), kMismatchOnDiskDiffers);
  EXPECT_EQ(replaced->attributes.at("deleted"), "true");
  EXPECT_EQ(replaced->sha256, proc->sha256) << "the running process still hashes as the old binary";

  // The copy removed altogether: on-disk-missing.
  fs::remove(dir_ + "/containerd");
  auto gone = (*engine)->runCycle();
  ASSERT_TRUE(gone.has_value());
  bool missing = false;
  for (const auto& m : gone->measurements) {
    if (m.kind == kKindRuntimeProcess && m.subject == dir_ + "/containerd") {
      missing = m.attributes.at("mismatch") == kMismatchOnDiskMissing;
    }
  }
  EXPECT_TRUE(missing);
}

}  // namespace
}  // namespace bulwark::agent
