#include "agent/inspect/mounts.h"

#include <gtest/gtest.h>

#include "tests/unit/inspect/inspect_test_util.h"

namespace bulwark::agent {
namespace {

using inspect_test::testData;

std::vector<MountInfoEntry> mounts(const std::string& text) {
  auto m = parseMountInfo(text);
  EXPECT_TRUE(m) << m.error().toString();
  return m ? *m : std::vector<MountInfoEntry>{};
}

const char* kHost =
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
    "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n"
    "27 26 0:25 / /run rw,nosuid - tmpfs tmpfs rw\n"
    "28 26 254:1 / /var/lib/docker rw - xfs /dev/vdb rw\n"
    "29 26 254:0 /srv/data /data rw - ext4 /dev/vda rw\n";

TEST(HostPath, ResolvesBindMountsThroughHostMounts) {
  const auto host = mounts(kHost);
  struct Case {
    const char* container_line;
    std::optional<std::string> want;
  } cases[] = {
      {"1 0 254:0 /tmp/bundle/rootfs / ro - ext4 /dev/vda rw", "/tmp/bundle/rootfs"},
      {"2 1 0:25 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw", "/run/docker.sock"},
      {"3 1 254:1 /volumes/x/_data /v rw - xfs /dev/vdb rw", "/var/lib/docker/volumes/x/_data"},
      {"4 1 254:0 / /host rw - ext4 /dev/vda rw", "/"},
      {"5 1 254:0 /srv/data/sub /d rw - ext4 /dev/vda rw", "/srv/data/sub"},
      {"6 1 0:21 / /sys ro - sysfs sysfs rw", "/sys"},       // host netns: same sysfs
      {"7 1 0:39 / /proc rw - proc proc rw", std::nullopt},  // the container's own proc
  };
  for (const Case& c : cases) {
    const auto m = mounts(c.container_line);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(hostPathOf(m[0], host), c.want) << c.container_line;
  }
}

TEST(SensitiveMounts, SocketsAnyModeDirectoriesWhenWritable) {
  const auto host = mounts(kHost);
  const auto container = mounts(
      "1 0 254:0 /tmp/bundle/rootfs / ro - ext4 /dev/vda rw\n"
      "2 1 0:25 /docker.sock /var/run/docker.sock ro - tmpfs tmpfs rw\n"
      "3 1 254:0 /etc /host-etc ro - ext4 /dev/vda rw\n"
      "4 1 254:0 /etc /host-etc-rw rw - ext4 /dev/vda rw\n"
      "5 1 0:21 / /sys rw - sysfs sysfs rw\n"
      "6 1 0:20 /sys /proc/sys ro - proc proc rw\n"
      "7 1 254:0 /tmp/x/containerd.sock /run/c.sock rw - ext4 /dev/vda rw\n"
      "8 1 0:39 / /proc rw - proc proc rw\n"
      "9 1 254:0 /home/u /home rw - ext4 /dev/vda rw\n");
  const auto found = sensitiveMounts(container, host);
  std::vector<std::string> got;
  for (const auto& s : found) got.push_back(s.host_path + "@" + s.mount_point);
  EXPECT_EQ(got,
            (std::vector<std::string>{"/run/docker.sock@/var/run/docker.sock", "/etc@/host-etc-rw",
                                      "/sys@/sys", "/tmp/x/containerd.sock@/run/c.sock"}));
}

TEST(SensitiveMounts, CapturedRuncDefaultHasNone) {
  const auto host = mounts(testData("host-mountinfo.txt"));
  const auto container = mounts(testData("runc-mountinfo.txt"));
  EXPECT_TRUE(sensitiveMounts(container, host).empty());
  const MountInfoEntry* root = rootMount(container);
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->readOnly());
}

TEST(CgroupLocation, HybridV1ControllersAndV2) {
  const auto host = mounts(testData("host-mountinfo.txt"));
  auto cg = parseProcCgroup(testData("runc-cgroup.txt"));
  ASSERT_TRUE(cg);
  auto pids = cgroupLocation(*cg, host, "pids");
  ASSERT_TRUE(pids);
  EXPECT_EQ(pids->dir, "/sys/fs/cgroup/pids/t1");
  EXPECT_FALSE(pids->v2);
  auto mem = cgroupLocation(*cg, host, "memory");
  ASSERT_TRUE(mem);
  EXPECT_EQ(mem->dir, "/sys/fs/cgroup/memory/process_api/805465130f5b3995d4ceaa6dc5a69d3b/t1");
  // Pure v2 host: the unified hierarchy.
  const auto v2host = mounts("30 26 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  auto v2cg = parseProcCgroup("0::/system.slice/docker-abc.scope\n");
  ASSERT_TRUE(v2cg);
  auto v2 = cgroupLocation(*v2cg, v2host, "memory");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->dir, "/sys/fs/cgroup/system.slice/docker-abc.scope");
  EXPECT_TRUE(v2->v2);
  EXPECT_FALSE(cgroupLocation(*v2cg, mounts(kHost), "memory"));
}

TEST(CgroupLimit, Values) {
  EXPECT_EQ(parseCgroupLimit("max\n").value(), std::nullopt);
  EXPECT_EQ(parseCgroupLimit("9223372036854771712\n").value(), std::nullopt);  // v1 unlimited
  EXPECT_EQ(parseCgroupLimit("67108864\n").value(), std::optional<std::uint64_t>(67108864));
  EXPECT_EQ(parseCgroupLimit("100").value(), std::optional<std::uint64_t>(100));
  for (const char* bad : {"", "-1", "12k", "max max", "99999999999999999999999"}) {
    EXPECT_FALSE(parseCgroupLimit(bad)) << bad;
  }
}

}  // namespace
}  // namespace bulwark::agent
