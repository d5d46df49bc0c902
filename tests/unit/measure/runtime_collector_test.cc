// Runtime binaries: exe link parsing, name patterns, process merge and the
// replaced-on-disk mismatch; the /proc scan over a fixture /proc and over the real one.
#include "agent/measure/runtime_collector.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/unit/measure/measure_test_util.h"

namespace bulwark::agent {
namespace {

TEST(RuntimeCollector, ParseExeLink) {
  struct {
    const char* link;
    const char* path;
    bool deleted;
  } cases[] = {{"/usr/bin/runc", "/usr/bin/runc", false},
               {"/usr/bin/runc (deleted)", "/usr/bin/runc", true},
               {"/tmp/a (deleted) b", "/tmp/a (deleted) b", false}};
  for (const auto& c : cases) {
    ExeLink e = parseExeLink(c.link);
    EXPECT_EQ(e.path, c.path);
    EXPECT_EQ(e.deleted, c.deleted) << c.link;
  }
}

TEST(RuntimeCollector, NamePatterns) {
  std::vector<std::string> p = {"runc", "containerd-shim*", "dockerd"};
  struct {
    const char* path;
    bool match;
  } cases[] = {{"/usr/bin/runc", true},        {"/usr/bin/containerd-shim-runc-v2", true},
               {"/usr/sbin/dockerd", true},    {"/usr/bin/runc.real", false},
               {"/usr/bin/containerd", false}, {"/runc/bin/sh", false}};
  for (const auto& c : cases) EXPECT_EQ(matchesRuntimeName(p, c.path), c.match) << c.path;
}

Measurement proc(std::string exe, std::string pid, std::uint8_t b) {
  return Measurement{
      std::string(kKindRuntimeProcess), std::move(exe), Bytes(32, b), {{"pid", pid}}};
}
Measurement disk(std::string path, std::uint8_t b) {
  return Measurement{std::string(kKindRuntimeBinary), std::move(path), Bytes(32, b), {}};
}

TEST(RuntimeCollector, FinishMergesProcessesAndFlagsMismatches) {
  std::vector<Measurement> ms = {disk("/usr/bin/containerd-shim", 1),
                                 proc("/usr/bin/containerd-shim", "10", 1),
                                 proc("/usr/bin/containerd-shim", "11", 1),
                                 proc("/usr/bin/containerd-shim", "12", 2),  // old version
                                 proc("/opt/runc", "20", 5)};                // file gone
  finishRuntime(ms);
  ASSERT_EQ(ms.size(), 4u);
  std::map<std::string, const Measurement*> by_pids;
  for (const auto& m : ms) {
    if (m.kind == kKindRuntimeProcess) by_pids[m.attributes.at("pids")] = &m;
  }
  ASSERT_EQ(by_pids.size(), 3u);
  EXPECT_EQ(by_pids.at("10,11")->attributes.count("mismatch"), 0u);
  EXPECT_EQ(by_pids.at("12")->attributes.at("mismatch"), kMismatchOnDiskDiffers);
  EXPECT_EQ(by_pids.at("20")->attributes.at("mismatch"), kMismatchOnDiskMissing);
}

TEST(RuntimeCollector, ProcScanOverFixture) {
  testutil::TempDir root;
  testutil::writeText(root / "bin/runc", "runc-binary");
  testutil::writeText(root / "bin/bash", "bash");
  std::filesystem::create_directories(root / "proc/100");
  std::filesystem::create_directories(root / "proc/200");
  std::filesystem::create_directories(root / "proc/self");
  std::filesystem::create_directories(root / "proc/300");  // no exe link: kernel thread
  ASSERT_EQ(::symlink((root / "bin/runc").c_str(), (root / "proc/100/exe").c_str()), 0);
  ASSERT_EQ(::symlink((root / "bin/bash").c_str(), (root / "proc/200/exe").c_str()), 0);
  RuntimeCollector c(RuntimeCollectorOptions{{"runc"}, root / "proc"}, nullptr);
  Collection out = c.collect();
  ASSERT_EQ(out.files.size(), 2u);
  EXPECT_EQ(out.files[0].kind, kKindRuntimeProcess);
  EXPECT_EQ(out.files[0].subject, root / "bin/runc");
  EXPECT_EQ(out.files[0].path, root / "proc/100/exe");
  EXPECT_EQ(out.files[0].attributes.at("pid"), "100");
  EXPECT_EQ(out.files[1].kind, kKindRuntimeBinary);
  EXPECT_EQ(out.files[1].path, root / "bin/runc");
}

class FakeSystemd final : public SystemdManager {
 public:
  Result<std::vector<ServiceUnit>> result;
  Result<std::vector<ServiceUnit>> listServices() override { return result; }
};

TEST(RuntimeCollector, SystemdUnitsAndUnreachableSystemd) {
  testutil::TempDir root;
  std::filesystem::create_directories(root / "proc");
  FakeSystemd systemd;
  systemd.result = std::vector<ServiceUnit>{
      {"containerd.service", "active", {"/usr/bin/containerd"}, 4242},  // pid gone
      {"ssh.service", "active", {"/usr/sbin/sshd"}, 1}};
  RuntimeCollector c(RuntimeCollectorOptions{{"containerd"}, root / "proc"}, &systemd);
  Collection out = c.collect();
  ASSERT_EQ(out.files.size(), 1u);
  EXPECT_EQ(out.files[0].subject, "/usr/bin/containerd");
  EXPECT_EQ(out.files[0].attributes.at("unit"), "containerd.service");
  ASSERT_EQ(out.notes.size(), 1u);
  EXPECT_NE(out.notes[0].find("process 4242 (containerd.service) exited"), std::string::npos);

  systemd.result = std::unexpected(Error(ErrorCode::kUnavailable, "no bus"));
  Collection again = c.collect();
  ASSERT_EQ(again.notes.size(), 1u);
  EXPECT_NE(again.notes[0].find("/proc scan only"), std::string::npos);
  EXPECT_TRUE(c.collect().notes.empty()) << "noted once per run";
}

TEST(RuntimeCollector, RealProcScanFindsAChild) {
  // A child running a copy of /bin/sleep named like a runtime.
  testutil::TempDir dir;
  std::string exe = dir / "crun";
  std::filesystem::copy_file("/bin/sleep", exe);
  ::chmod(exe.c_str(), 0755);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(exe.c_str(), "crun", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::usleep(200'000);
  RuntimeCollector c(RuntimeCollectorOptions{{"crun"}, "/proc"}, nullptr);
  Collection out = c.collect();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  bool found = false;
  for (const auto& f : out.files) {
    if (f.kind == kKindRuntimeProcess && f.attributes.at("pid") == std::to_string(pid)) {
      found = true;
      EXPECT_EQ(f.subject, exe);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace bulwark::agent
