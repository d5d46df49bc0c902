#include "agent/inspect/proc_parse.h"

#include <gtest/gtest.h>

#include "tests/unit/inspect/inspect_test_util.h"

namespace bulwark::agent {
namespace {

using inspect_test::testData;

TEST(ProcStatus, CapturedRuncContainer) {
  auto st = parseProcStatus(testData("runc-status.txt"));
  ASSERT_TRUE(st) << st.error().toString();
  EXPECT_EQ(st->name, "sleep");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->uid_real, 0u);
  EXPECT_EQ(st->cap_eff, 0x20000420u);  // runc spec default: AUDIT_WRITE, KILL, NET_BIND_SERVICE
  EXPECT_EQ(st->cap_bnd, 0x20000420u);
  EXPECT_EQ(st->no_new_privs, 1);
  EXPECT_EQ(st->seccomp, 0);
  EXPECT_EQ(st->seccomp_filters, 0);
}

TEST(ProcStatus, RejectsMalformed) {
  const std::string ok =
      "Name:\tx\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\n"
      "CapBnd:\t00000000a80425fb\nSeccomp:\t2\n";
  ASSERT_TRUE(parseProcStatus(ok));
  struct Case {
    const char* what;
    std::string text;
  } cases[] = {
      {"no colon", ok + "garbage\n"},
      {"missing CapBnd", "State:\tS\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
      {"bad hex", "State:\tS\nUid:\t0\t0\t0\t0\nCapEff:\tzz\nCapBnd:\t0\n"},
      {"hex too long", "State:\tS\nUid:\t0\t0\t0\t0\nCapEff:\t00000000000000000\nCapBnd:\t0\n"},
      {"uid fields", "State:\tS\nUid:\t0\t0\nCapEff:\t0\nCapBnd:\t0\n"},
      {"seccomp mode 3", ok + "Seccomp:\t3\n"},
      {"negative NoNewPrivs", ok + "NoNewPrivs:\t-1\n"},
      {"empty state", "State:\t\nUid:\t0\t0\t0\t0\nCapEff:\t0\nCapBnd:\t0\n"},
      {"empty", ""},
  };
  for (const Case& c : cases) {
    auto st = parseProcStatus(c.text);
    ASSERT_FALSE(st) << c.what;
    EXPECT_EQ(st.error().code(), ErrorCode::kMalformed) << c.what;
  }
}

TEST(MountInfo, CapturedRuncContainer) {
  auto mounts = parseMountInfo(testData("runc-mountinfo.txt"));
  ASSERT_TRUE(mounts) << mounts.error().toString();
  ASSERT_GE(mounts->size(), 20u);
  const MountInfoEntry& root = mounts->front();
  EXPECT_EQ(root.mount_point, "/");
  EXPECT_EQ(root.root, "/tmp/bundle/rootfs");
  EXPECT_EQ(root.major, 254u);
  EXPECT_EQ(root.minor, 0u);
  EXPECT_EQ(root.fs_type, "ext4");
  EXPECT_TRUE(root.readOnly());  // runc spec default: readonly root
  EXPECT_EQ((*mounts)[1].mount_point, "/proc");
  EXPECT_FALSE((*mounts)[1].readOnly());
}

TEST(MountInfo, OptionalFieldsAndEscapes) {
  auto m = parseMountInfo(
      "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root "
      "rw,errors=continue\n");
  ASSERT_TRUE(m) << m.error().toString();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].mount_point, "/mnt two");
  EXPECT_EQ((*m)[0].fs_type, "ext3");
  EXPECT_EQ((*m)[0].source, "/dev/root");
  EXPECT_EQ((*m)[0].super_options, (std::vector<std::string>{"rw", "errors=continue"}));
  EXPECT_EQ(unescapeMountPath("a\\134b\\011"), "a\\b\t");
  EXPECT_EQ(unescapeMountPath("trailing\\04"), "trailing\\04");
}

TEST(MountInfo, RejectsMalformed) {
  const char* cases[] = {
      "36 35 98:0 / /mnt rw\n",                           // no separator
      "36 35 98:0 / /mnt rw - ext3\n",                    // too few after '-'
      "x 35 98:0 / /mnt rw - ext3 /dev/root rw\n",        // bad id
      "36 35 98 / /mnt rw - ext3 /dev/root rw\n",         // bad device
      "36 35 98:0 / /mnt rw - ext3 /dev/root rw extra\n"  // extra field
  };
  for (const char* c : cases) {
    auto m = parseMountInfo(c);
    ASSERT_FALSE(m) << c;
    EXPECT_EQ(m.error().code(), ErrorCode::kMalformed);
  }
}

TEST(ProcCgroup, CapturedHybridLayout) {
  auto cg = parseProcCgroup(testData("runc-cgroup.txt"));
  ASSERT_TRUE(cg) << cg.error().toString();
  ASSERT_EQ(cg->size(), 10u);
  EXPECT_EQ(cg->back().hierarchy, 0u);
  EXPECT_TRUE(cg->back().controllers.empty());
  EXPECT_EQ((*cg)[1].controllers, std::vector<std::string>{"pids"});
  EXPECT_EQ((*cg)[1].path, "/t1");
  EXPECT_EQ(cg->front().controllers, std::vector<std::string>{"name=systemd"});
}

TEST(ProcCgroup, RejectsMalformed) {
  for (const char* c : {"0:/x\n", "a::/x\n", "0::relative\n", "0::\n"}) {
    EXPECT_FALSE(parseProcCgroup(c)) << c;
  }
}

TEST(ProcStat, CommWithParensAndSpaces) {
  auto st = parseProcStat(testData("runc-stat.txt"));
  ASSERT_TRUE(st) << st.error().toString();
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->start_time, 455945u);
  auto odd =
      parseProcStat("7 (a) b) (c) t 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99 20 21\n");
  ASSERT_TRUE(odd) << odd.error().toString();
  EXPECT_EQ(odd->state, 't');
  EXPECT_EQ(odd->start_time, 99u);
  for (const char* bad :
       {"7 (x S 1", "7 (x) S 1 2", "7 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
        "7 (x) S x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"}) {
    EXPECT_FALSE(parseProcStat(bad)) << bad;
  }
}

}  // namespace
}  // namespace bulwark::agent
