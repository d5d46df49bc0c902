// Host OS collector over a fixture root: kernel image, cmdline, os-release,
// modules (file found / not found), include globs and directories.
#include "agent/measure/host_collector.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "agent/measure/path_expander.h"
#include "tests/unit/measure/measure_test_util.h"

namespace bulwark::agent {
namespace {

using testutil::TempDir;
using testutil::writeText;

TEST(HostCollector, ParseProcModules) {
  auto mods = parseProcModules(
      "nf_tables 253952 0 - Live 0x0000000000000000\n"
      "ext4 892928 2 - Live 0x0000000000000000\n"
      "\n"
      "garbage\n"
      "x_tables 45056 1 nf_tables, Live 0x0000000000000000\n");
  ASSERT_EQ(mods.size(), 3u);
  EXPECT_EQ(mods[0].name, "nf_tables");
  EXPECT_EQ(mods[0].size, "253952");
  EXPECT_EQ(mods[2].name, "x_tables");
}

TEST(HostCollector, NormalizeModuleName) {
  EXPECT_EQ(normalizeModuleName("snd-hda-intel"), "snd_hda_intel");
  EXPECT_EQ(normalizeModuleName("ext4"), "ext4");
}

struct Fixture {
  TempDir root;
  HostCollectorOptions options() {
    HostCollectorOptions o;
    o.proc_root = root / "proc";
    o.boot_dir = root / "boot";
    o.modules_root = root / "lib/modules";
    o.os_release = root / "etc/os-release";
    o.kernel_release = "6.1.0-test";
    return o;
  }
  Fixture() {
    writeText(root / "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n");
    writeText(root / "proc/modules",
              "snd_hda_intel 57344 0 - Live 0x0\nmystery 4096 0 - Live 0x0\n");
    writeText(root / "boot/vmlinuz-6.1.0-test", "kernel image");
    writeText(root / "etc/os-release", "ID=debian\n");
    writeText(root / "lib/modules/6.1.0-test/kernel/sound/snd-hda-intel.ko.xz", "module bytes");
    writeText(root / "etc/conf.d/a.conf", "a");
    writeText(root / "etc/conf.d/b.conf", "b");
    writeText(root / "etc/conf.d/skip.txt", "c");
    writeText(root / "opt/tree/x/y/z", "deep");
  }
};

const FileTarget* findFile(const Collection& c, std::string_view kind, const std::string& subject) {
  for (const auto& f : c.files) {
    if (f.kind == kind && f.subject == subject) return &f;
  }
  return nullptr;
}

TEST(HostCollector, CollectsEveryHostSource) {
  Fixture fx;
  auto o = fx.options();
  o.include = {fx.root / "etc/conf.d/*.conf", fx.root / "opt/tree", fx.root / "nothing-*"};
  HostCollector host(o);
  Collection c = host.collect();

  ASSERT_NE(findFile(c, kKindKernel, fx.root / "boot/vmlinuz-6.1.0-test"), nullptr);
  ASSERT_NE(findFile(c, kKindHostFile, fx.root / "etc/os-release"), nullptr);
  const FileTarget* mod = findFile(c, kKindModule, "snd_hda_intel");
  ASSERT_NE(mod, nullptr);
  EXPECT_EQ(mod->path, fx.root / "lib/modules/6.1.0-test/kernel/sound/snd-hda-intel.ko.xz");
  EXPECT_NE(findFile(c, kKindHostFile, fx.root / "etc/conf.d/a.conf"), nullptr);
  EXPECT_NE(findFile(c, kKindHostFile, fx.root / "etc/conf.d/b.conf"), nullptr);
  EXPECT_EQ(findFile(c, kKindHostFile, fx.root / "etc/conf.d/skip.txt"), nullptr);
  EXPECT_NE(findFile(c, kKindHostFile, fx.root / "opt/tree/x/y/z"), nullptr);

  ASSERT_EQ(c.direct.size(), 2u);
  EXPECT_EQ(c.direct[0].kind, kKindCmdline);
  EXPECT_EQ(toHex(c.direct[0].sha256),
            testutil::sha256Hex("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n"));
  EXPECT_EQ(c.direct[1].subject, "mystery");
  EXPECT_EQ(c.direct[1].attributes.at("file"), "not-found");

  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_NE(c.notes[0].find("nothing-*: no match"), std::string::npos);
}

TEST(HostCollector, MissingKernelAndOsReleaseAreNotes) {
  TempDir root;
  HostCollectorOptions o;
  o.proc_root = root / "proc";
  o.boot_dir = root / "boot";
  o.modules_root = root / "lib/modules";
  o.os_release = root / "etc/os-release";
  o.kernel_release = "x";
  HostCollector host(o);
  Collection c = host.collect();
  EXPECT_TRUE(c.files.empty());
  EXPECT_TRUE(c.direct.empty());
  ASSERT_EQ(c.notes.size(), 3u);
  EXPECT_NE(c.notes[0].find("kernel image"), std::string::npos);
  EXPECT_NE(c.notes[1].find("cmdline"), std::string::npos);
  EXPECT_NE(c.notes[2].find("os-release not present"), std::string::npos);
}

TEST(PathExpander, LimitAndSymlinksInTrees) {
  TempDir root;
  for (int i = 0; i < 10; ++i) writeText(root / ("t/f" + std::to_string(i)), "x");
  writeText(root / "outside/secret", "s");
  ASSERT_EQ(::symlink((root / "outside").c_str(), (root / "t/link").c_str()), 0);
  ASSERT_EQ(::symlink((root / "outside/secret").c_str(), (root / "t/filelink").c_str()), 0);
  ASSERT_EQ(::mkfifo((root / "t/fifo").c_str(), 0600), 0);
  auto all = expandIncludes({root / "t"});
  EXPECT_EQ(all.files.size(), 10u) << "symlinks (to a directory or a file) and FIFOs are skipped";
  for (const auto& f : all.files) EXPECT_EQ(f.find("link"), std::string::npos) << f;
  auto limited = expandIncludes({root / "t"}, 4);
  EXPECT_EQ(limited.files.size(), 4u);
  ASSERT_FALSE(limited.notes.empty());
  EXPECT_NE(limited.notes[0].find("stopped at 4 files"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::agent
