#include "agent/inspect/checks.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/inspect/inspect_test_util.h"

namespace bulwark::agent {
namespace {

using inspect_test::profilesDir;

const char* kHostMounts =
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "27 26 0:25 / /run rw,nosuid - tmpfs tmpfs rw\n";

HostView host() {
  HostView h;
  h.reference = "/proc/1";
  std::uint64_t ino = 100;
  for (const std::string& k : namespaceKinds()) h.namespaces[k] = NamespaceId{4, ino++};
  h.mounts = *parseMountInfo(kHostMounts);
  h.cap_last_cap = 40;
  return h;
}

// A hardened container: own namespaces (user too), non-root, no caps,
// seccomp on, no_new_privs, AppArmor, read-only root, limits.
ProcessFacts hardened() {
  ProcessFacts f;
  f.pid = 42;
  f.status.state = 'S';
  f.status.uid_real = f.status.uid_effective = 1000;
  f.status.cap_eff = 0;
  f.status.cap_bnd = std::uint64_t{1} << 10;  // NET_BIND_SERVICE
  f.status.no_new_privs = 1;
  f.status.seccomp = 2;
  std::uint64_t ino = 900;
  for (const std::string& k : namespaceKinds()) f.namespaces[k] = NamespaceId{4, ino++};
  f.lsm_label = "docker-default (enforce)";
  f.mounts = *parseMountInfo("1 0 254:0 /b/rootfs / ro - ext4 /dev/vda rw\n");
  f.memory = LimitFact{true, 1u << 26, "/sys/fs/cgroup/x/memory.max", ""};
  f.pids = LimitFact{true, 100u, "/sys/fs/cgroup/x/pids.max", ""};
  return f;
}

IsolationProfile restricted() {
  auto p = resolveIsolationProfile("restricted", profilesDir());
  EXPECT_TRUE(p) << p.error().toString();
  return p ? *p : IsolationProfile{};
}

std::vector<std::string> controls(const ProcessFacts& f, const IsolationProfile& p) {
  std::vector<std::string> out;
  for (const RawFinding& r : checkIsolation(f, host(), p)) out.push_back(r.control);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Checks, HardenedHasNoFinding) { EXPECT_TRUE(controls(hardened(), restricted()).empty()); }

TEST(Checks, EachVariationYieldsExactlyItsFindings) {
  const HostView h = host();
  struct Case {
    const char* what;
    std::function<void(ProcessFacts&)> edit;
    std::vector<std::string> want;
  } cases[] = {
      {"host pid",
       [&](ProcessFacts& f) { f.namespaces["pid"] = h.namespaces.at("pid"); },
       {"host-pid-namespace"}},
      {"host net+ipc",
       [&](ProcessFacts& f) {
         f.namespaces["net"] = h.namespaces.at("net");
         f.namespaces["ipc"] = h.namespaces.at("ipc");
       },
       {"host-ipc-namespace", "host-network-namespace"}},
      {"host uts, mnt, cgroup",
       [&](ProcessFacts& f) {
         for (const char* k : {"uts", "mnt", "cgroup"}) f.namespaces[k] = h.namespaces.at(k);
       },
       {"host-cgroup-namespace", "host-mount-namespace", "host-uts-namespace"}},
      {"root in a userns",
       [](ProcessFacts& f) { f.status.uid_real = f.status.uid_effective = 0; },
       {}},
      {"root without userns",
       [&](ProcessFacts& f) {
         f.status.uid_effective = 0;
         f.namespaces["user"] = h.namespaces.at("user");
       },
       {"root-without-userns"}},
      {"unreadable ns is not shared", [](ProcessFacts& f) { f.namespaces.erase("pid"); }, {}},
      {"CAP_SYS_ADMIN effective",
       [](ProcessFacts& f) {
         f.status.cap_eff |= std::uint64_t{1} << 21;
         f.status.cap_bnd |= std::uint64_t{1} << 21;
       },
       {"capability:CAP_SYS_ADMIN"}},
      {"bounding only",
       [](ProcessFacts& f) { f.status.cap_bnd |= std::uint64_t{1} << 13; },
       {"capability:CAP_NET_RAW"}},
      {"no_new_privs off",
       [](ProcessFacts& f) { f.status.no_new_privs = 0; },
       {"no-new-privileges-off"}},
      {"no_new_privs unknown", [](ProcessFacts& f) { f.status.no_new_privs.reset(); }, {}},
      {"no LSM", [](ProcessFacts& f) { f.lsm_label.reset(); }, {"lsm-unconfined"}},
      {"apparmor unconfined",
       [](ProcessFacts& f) { f.lsm_label = "unconfined"; },
       {"lsm-unconfined"}},
      {"selinux spc_t",
       [](ProcessFacts& f) { f.lsm_label = "system_u:system_r:spc_t:s0"; },
       {"lsm-unconfined"}},
      {"selinux container_t",
       [](ProcessFacts& f) { f.lsm_label = "system_u:system_r:container_t:s0:c1,c2"; },
       {}},
      {"rw root",
       [](ProcessFacts& f) {
         f.mounts = *parseMountInfo("1 0 254:0 /b/rootfs / rw - ext4 /dev/vda rw\n");
       },
       {"rootfs-writable"}},
      {"docker.sock",
       [](ProcessFacts& f) {
         f.mounts.push_back(
             (*parseMountInfo("2 1 0:25 /docker.sock /var/run/docker.sock rw - tmpfs t rw\n"))[0]);
       },
       {"sensitive-mount:/run/docker.sock"}},
      {"no limits",
       [](ProcessFacts& f) {
         f.memory.limit.reset();
         f.pids.limit.reset();
       },
       {"no-memory-limit", "no-pids-limit"}},
      {"limits unknown",
       [](ProcessFacts& f) {
         f.memory = LimitFact{};
         f.pids = LimitFact{};
       },
       {}},
  };
  for (const Case& c : cases) {
    ProcessFacts f = hardened();
    c.edit(f);
    EXPECT_EQ(controls(f, restricted()), c.want) << c.what;
  }
}

TEST(Checks, PrivilegedAndNearEquivalents) {
  const std::uint64_t all = (std::uint64_t{1} << 41) - 1;
  struct Case {
    const char* what;
    std::uint64_t bnd;
    int seccomp;
    bool want;
  } cases[] = {
      {"--privileged", all, 0, true},
      {"all but SYS_RESOURCE (this sandbox)", all & ~(std::uint64_t{1} << 24), 0, true},
      {"all but two", all & ~(std::uint64_t{3} << 24), 0, true},
      {"all but three", all & ~(std::uint64_t{7} << 24), 0, false},
      // Docker 20.10's "ALL" predates PERFMON/BPF/CHECKPOINT_RESTORE (38-40), which
      // CAP_SYS_ADMIN still covers: --cap-add ALL --cap-drop SYS_RESOURCE seen here.
      {"Docker 20.10 ALL but SYS_RESOURCE", all & ~(std::uint64_t{7} << 38) & ~(std::uint64_t{1} << 24),
       0, true},
      {"split caps missing and three others", all & ~(std::uint64_t{7} << 38) & ~(std::uint64_t{7} << 24),
       0, false},
      {"all caps but seccomp on", all, 2, false},
      {"all but SYS_ADMIN", all & ~(std::uint64_t{1} << 21), 0, false},
      {"Docker defaults, no seccomp", 0xa80425fbu, 0, false},
  };
  for (const Case& c : cases) {
    ProcStatus st;
    st.cap_bnd = st.cap_eff = c.bnd;
    st.seccomp = c.seccomp;
    EXPECT_EQ(looksPrivileged(st, 40, nullptr), c.want) << c.what;
  }
  ProcessFacts f = hardened();
  f.status.cap_bnd = f.status.cap_eff = all & ~(std::uint64_t{1} << 24);
  f.status.seccomp = 0;
  const auto found = checkIsolation(f, host(), restricted());
  auto it = std::find_if(found.begin(), found.end(),
                         [](const RawFinding& r) { return r.control == "privileged"; });
  ASSERT_NE(it, found.end());
  EXPECT_NE(it->detail.find("lacks CAP_SYS_RESOURCE"), std::string::npos) << it->detail;
  EXPECT_EQ(std::count_if(found.begin(), found.end(),
                          [](const RawFinding& r) { return r.control.starts_with("capability:"); }),
            39);  // 40 held, NET_BIND_SERVICE allowed
}

}  // namespace
}  // namespace bulwark::agent
