// readPackage on real packages built in the test by the distributions' own tools:
// dpkg-deb --build (every compressor it offers) and rpmbuild -bb (gzip, xz, zstd
// payloads). Expected digests are SHA-256 of the bytes the test wrote, computed
// independently of the reader. Then malformed archives: truncations, other archive
// kinds, path traversal, limits.
#include "server/appraisal/package.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "attest/core/digest.h"
#include "tests/unit/appraisal/fixtures.h"

namespace bulwark::server {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

void writeText(const fs::path& p, const std::string& text, int mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  ::chmod(p.c_str(), static_cast<mode_t>(mode));
}

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

Bytes readAll(const std::string& path) {
  auto b = readFile(path);
  EXPECT_TRUE(b.has_value()) << path;
  return b.value_or(Bytes{});
}

// The payload every test package installs, path → content.
const std::map<std::string, std::string> kPayload = {
    {"/usr/bin/hello", "#!/bin/sh\necho hello\n"},
    {"/etc/hello/hello.conf", "greeting = hi\n"},
    {"/usr/share/doc/hello/empty", ""},
    {"/usr/lib/hello/big.bin", std::string(300000, 'x') + "end"},
};

std::map<std::string, std::string> expectedDigests() {
  std::map<std::string, std::string> out;
  for (const auto& [path, content] : kPayload) out[path] = toHex(sha256(asBytes(content)));
  out["/usr/bin/hello-link"] = out["/usr/bin/hello"];  // hard link
  return out;
}

std::map<std::string, std::string> digestsOf(const PackageContents& p) {
  std::map<std::string, std::string> out;
  for (const PackageFile& f : p.files) {
    EXPECT_TRUE(out.emplace(f.path, toHex(f.sha256)).second) << "duplicate " << f.path;
  }
  return out;
}

void writePayload(const fs::path& root) {
  for (const auto& [path, content] : kPayload) writeText(root / path.substr(1), content);
  fs::create_directories(root / "var/lib/hello");                             // directory: skipped
  fs::create_symlink("hello", root / "usr/bin/hello-alias");                  // symlink: skipped
  fs::create_hard_link(root / "usr/bin/hello", root / "usr/bin/hello-link");  // same digest
}

// dpkg-deb --build with compressor `z`.
Bytes buildDeb(const TempDir& dir, const std::string& z) {
  fs::path root = fs::path(dir.path()) / ("deb-" + z);
  writePayload(root);
  writeText(root / "DEBIAN/control",
            "Package: bulwark-hello\nVersion: 1:2.10-3+deb12u1\nArchitecture: all\n"
            "Maintainer: Test <t@example.org>\nDescription: test package\n");
  std::string out = dir.path() + "/hello-" + z + ".deb";
  EXPECT_EQ(run("dpkg-deb --root-owner-group -Z" + z + " --build " + root.string() + " " + out), 0)
      << "dpkg-deb -Z" << z;
  return readAll(out);
}

// rpmbuild -bb of a spec whose %install writes the same payload.
Bytes buildRpm(const TempDir& dir, const std::string& payload_io) {
  fs::path top = fs::path(dir.path()) / ("rpm-" + payload_io);
  fs::path src = top / "payload";
  writePayload(src);
  std::string spec =
      "Name: bulwark-hello\nVersion: 2.10\nRelease: 3.el9\nSummary: t\n"
      "License: MIT\nBuildArch: noarch\n%description\nt\n"
      "%install\nmkdir -p %{buildroot}\ncp -a " +
      src.string() +
      "/. %{buildroot}/\n"
      "%files\n/usr/bin/hello\n/usr/bin/hello-link\n/usr/bin/hello-alias\n"
      "/etc/hello/hello.conf\n/usr/share/doc/hello/empty\n/usr/lib/hello/big.bin\n"
      "%dir /var/lib/hello\n";
  writeText(top / "hello.spec", spec);
  std::string cmd = "HOME=" + top.string() + " rpmbuild -bb --define '_topdir " + top.string() +
                    "' --define '_binary_payload " + payload_io +
                    "' --define '__os_install_post %{nil}' " + (top / "hello.spec").string();
  EXPECT_EQ(run(cmd), 0) << cmd;
  return readAll((top / "RPMS/noarch/bulwark-hello-2.10-3.el9.noarch.rpm").string());
}

class DebCompressors : public ::testing::TestWithParam<std::string> {};

TEST_P(DebCompressors, EveryRegularFileAsInstalled) {
  TempDir dir;
  Bytes deb = buildDeb(dir, GetParam());
  ASSERT_FALSE(deb.empty());
  auto p = readPackage(deb);
  ASSERT_TRUE(p.has_value()) << p.error().toString();
  EXPECT_EQ(p->format, PackageFormat::kDeb);
  EXPECT_EQ(p->name, "bulwark-hello");
  EXPECT_EQ(p->version, "1:2.10-3+deb12u1");
  EXPECT_EQ(digestsOf(*p), expectedDigests());
  EXPECT_EQ(packageSource(p->name, p->version), "package:bulwark-hello=1:2.10-3+deb12u1");
}
INSTANTIATE_TEST_SUITE_P(Deb, DebCompressors, ::testing::Values("xz", "gzip", "zstd", "none"));

class RpmPayloads : public ::testing::TestWithParam<std::string> {};

TEST_P(RpmPayloads, EveryRegularFileAsInstalled) {
  if (run("command -v rpmbuild") != 0) FAIL() << "rpmbuild missing: scripts/deps.sh installs rpm";
  TempDir dir;
  Bytes rpm = buildRpm(dir, GetParam());
  ASSERT_FALSE(rpm.empty());
  auto p = readPackage(rpm);
  ASSERT_TRUE(p.has_value()) << p.error().toString();
  EXPECT_EQ(p->format, PackageFormat::kRpm);
  EXPECT_EQ(p->name, "bulwark-hello");
  EXPECT_EQ(p->version, "2.10-3.el9");
  EXPECT_EQ(digestsOf(*p), expectedDigests());
}
INSTANTIATE_TEST_SUITE_P(Rpm, RpmPayloads, ::testing::Values("w9.gzdio", "w2.xzdio", "w19.zstdio"));

TEST(Package, TruncatedAndCorruptedNeverParse) {
  TempDir dir;
  Bytes deb = buildDeb(dir, "gzip");
  ASSERT_GT(deb.size(), 1000u);
  // Every cut short of the whole file loses data.tar's end (it is the last member).
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{60},
                        std::size_t{200}, deb.size() / 2, deb.size() - 100, deb.size() - 1}) {
    auto p = readPackage(ByteView(deb.data(), n));
    EXPECT_FALSE(p.has_value()) << "cut at " << n;
  }
  // A flipped bit never yields the original digests: the stream fails or a digest moves.
  Bytes flipped = deb;
  flipped[flipped.size() / 2] ^= 0x01;
  auto f = readPackage(flipped);
  if (f) {
    EXPECT_NE(digestsOf(*f), expectedDigests());
  }
  Bytes plain = buildDeb(dir, "none");
  std::string text(plain.begin(), plain.end());
  auto at = text.find(std::string(1000, 'x'));
  ASSERT_NE(at, std::string::npos);
  plain[at + 500] = 'y';  // inside big.bin's content, uncompressed
  auto g = readPackage(plain);
  ASSERT_TRUE(g.has_value()) << g.error().toString();
  EXPECT_NE(digestsOf(*g)["/usr/lib/hello/big.bin"], expectedDigests()["/usr/lib/hello/big.bin"]);
}

TEST(Package, OtherArchivesAndBadPathsAreRefused) {
  TempDir dir;
  fs::path root = fs::path(dir.path()) / "t";
  writeText(root / "a/file", "x");
  ASSERT_EQ(run("tar -C " + root.string() + " -cf " + dir.path() + "/plain.tar a"), 0);
  auto tar = readPackage(readAll(dir.path() + "/plain.tar"));
  ASSERT_FALSE(tar.has_value());
  EXPECT_EQ(tar.error().code(), ErrorCode::kMalformed) << tar.error().toString();

  // An ar archive that is not a .deb (first member is not debian-binary).
  ASSERT_EQ(run("cd " + root.string() + " && ar rc " + dir.path() + "/x.a a/file"), 0);
  EXPECT_FALSE(readPackage(readAll(dir.path() + "/x.a")).has_value());

  // A .deb whose data.tar escapes "/" with "..": built by hand with ar + tar.
  fs::path evil = fs::path(dir.path()) / "evil";
  writeText(evil / "debian-binary", "2.0\n");
  writeText(evil / "ctl/control", "Package: evil\nVersion: 1\n");
  writeText(evil / "data/x", "pwned");
  ASSERT_EQ(run("cd " + evil.string() +
                " && tar -C ctl -czf control.tar.gz ./control && "
                "tar -C data --transform 's,^x,../../etc/x,' -czf data.tar.gz x && "
                "ar rc evil.deb debian-binary control.tar.gz data.tar.gz"),
            0);
  auto e = readPackage(readAll((evil / "evil.deb").string()));
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find(".."), std::string::npos) << e.error().toString();
}

TEST(Package, LimitsStopBombs) {
  TempDir dir;
  Bytes deb = buildDeb(dir, "xz");
  PackageLimits few_entries;
  few_entries.max_entries = 5;
  auto a = readPackage(deb, few_entries);
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message().find("entries"), std::string::npos);
  PackageLimits small;
  small.max_total_bytes = 100000;  // big.bin alone is 300 KB uncompressed
  auto b = readPackage(deb, small);
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message().find("exceeds"), std::string::npos);
}

TEST(Package, NamesAndVersions) {
  struct Case {
    const char* s;
    bool name, version;
  } cases[] = {{"runc", true, true},  {"libc6-dev", true, true}, {"1:1.1.5+ds1-1", true, true},
               {"-x", false, true},   {"", false, false},        {"a b", false, false},
               {"a/b", false, false}, {"~rc1", false, true},     {"a\nb", false, false}};
  for (const Case& c : cases) {
    EXPECT_EQ(isPackageName(c.s), c.name) << c.s;
    EXPECT_EQ(isPackageVersion(c.s), c.version) << c.s;
  }
}

}  // namespace
}  // namespace bulwark::server
