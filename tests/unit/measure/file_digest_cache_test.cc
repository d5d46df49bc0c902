// Incremental file digests: correct SHA-256, cache keyed by (dev, ino, size,
// mtime, ctime), racy entries not cached, parallel hashing equals serial.
#include "agent/measure/file_digest_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "tests/unit/measure/measure_test_util.h"

namespace bulwark::agent {
namespace {

using testutil::TempDir;
using testutil::writeText;

TEST(FileDigestCache, KnownVectors) {
  TempDir dir;
  // FIPS 180-2 B.1 ("abc") and the empty message.
  struct {
    const char* content;
    const char* sha;
  } cases[] = {{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
               {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
  FileDigestCache cache(2);
  for (const auto& c : cases) {
    writeText(dir / "f", c.content);
    auto d = cache.digestFile(dir / "f");
    ASSERT_TRUE(d.has_value()) << d.error().toString();
    EXPECT_EQ(toHex(d->sha256), c.sha);
  }
}

TEST(FileDigestCache, LargeFileSpanningReadChunks) {
  TempDir dir;
  std::string big(3 * (1u << 20) + 17, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  writeText(dir / "big", big);
  FileDigestCache cache(1);
  auto d = cache.digestFile(dir / "big");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(toHex(d->sha256), testutil::sha256Hex(big));
  EXPECT_EQ(cache.takeStats().bytes, big.size());
}

TEST(FileDigestCache, UnchangedFileIsACacheHit) {
  TempDir dir;
  writeText(dir / "f", "content");
  testutil::waitOutRacyWindow();
  FileDigestCache cache(1);
  auto first = cache.digestFile(dir / "f");
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->from_cache);
  auto second = cache.digestFile(dir / "f");
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(first->sha256, second->sha256);
  auto stats = cache.takeStats();
  EXPECT_EQ(stats.files, 2u);
  EXPECT_EQ(stats.hashed, 1u);
}

TEST(FileDigestCache, RecentlyChangedFileIsNotCached) {
  TempDir dir;
  writeText(dir / "f", "fresh");
  FileDigestCache cache(1);
  ASSERT_TRUE(cache.digestFile(dir / "f").has_value());
  auto again = cache.digestFile(dir / "f");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->from_cache);
}

TEST(FileDigestCache, SameSizeRewriteWithRestoredMtimeIsSeenThroughCtime) {
  TempDir dir;
  writeText(dir / "f", "AAAA");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "f").c_str(), &st), 0);
  testutil::waitOutRacyWindow();
  FileDigestCache cache(1);
  auto before = cache.digestFile(dir / "f");
  ASSERT_TRUE(before.has_value());
  writeText(dir / "f", "BBBB");
  timespec times[2] = {st.st_atim, st.st_mtim};  // the attacker restores mtime
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "f").c_str(), times, 0), 0);
  testutil::waitOutRacyWindow();
  auto after = cache.digestFile(dir / "f");
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->from_cache);
  EXPECT_EQ(toHex(after->sha256), testutil::sha256Hex("BBBB"));
}

TEST(FileDigestCache, ReplacedByRenameIsANewInode) {
  TempDir dir;
  writeText(dir / "f", "one");
  testutil::waitOutRacyWindow();
  FileDigestCache cache(1);
  ASSERT_TRUE(cache.digestFile(dir / "f").has_value());
  writeText(dir / "g", "two");
  ASSERT_EQ(::rename((dir / "g").c_str(), (dir / "f").c_str()), 0);
  auto after = cache.digestFile(dir / "f");
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->from_cache);
  EXPECT_EQ(toHex(after->sha256), testutil::sha256Hex("two"));
}

TEST(FileDigestCache, ErrorsAreNamed) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  ASSERT_EQ(::symlink((dir / "nowhere").c_str(), (dir / "dangling").c_str()), 0);
  FileDigestCache cache(1);
  struct {
    std::string path;
    ErrorCode code;
  } cases[] = {{dir / "missing", ErrorCode::kNotFound},
               {dir / "dangling", ErrorCode::kNotFound},
               {dir / "fifo", ErrorCode::kInvalidArgument},
               {dir.path(), ErrorCode::kInvalidArgument}};
  for (const auto& c : cases) {
    auto d = cache.digestFile(c.path);
    ASSERT_FALSE(d.has_value()) << c.path;
    EXPECT_EQ(d.error().code(), c.code) << c.path;
    EXPECT_NE(d.error().toString().find(c.path), std::string::npos);
  }
}

TEST(FileDigestCache, ParallelEqualsSerialAndKeepsOrder) {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 200; ++i) {
    paths.push_back(dir / ("f" + std::to_string(i)));
    writeText(paths.back(),
              std::string(static_cast<std::size_t>(i) * 97, static_cast<char>('a' + i % 26)));
  }
  paths.push_back(dir / "missing");
  FileDigestCache parallel(4), serial(1);
  std::size_t last_done = 0;
  auto a = parallel.digestFiles(paths, [&](std::size_t done, std::size_t total, std::uint64_t) {
    EXPECT_EQ(total, paths.size());
    last_done = std::max(last_done, done);
  });
  auto b = serial.digestFiles(paths);
  ASSERT_EQ(a.size(), paths.size());
  EXPECT_EQ(last_done, paths.size());
  for (std::size_t i = 0; i + 1 < paths.size(); ++i) {
    ASSERT_TRUE(a[i].has_value() && b[i].has_value());
    EXPECT_EQ(a[i]->sha256, b[i]->sha256);
    EXPECT_EQ(toHex(a[i]->sha256),
              testutil::sha256Hex(std::string(i * 97, static_cast<char>('a' + i % 26))));
  }
  EXPECT_FALSE(a.back().has_value());
}

// digestFiles resolves names relative to an open directory per run of paths: the
// results (digests and errors) must be what stat(2) on each full path gives.
TEST(FileDigestCache, DirectoryRelativeLookupMatchesFullPaths) {
  TempDir dir;
  writeText(dir / "a/one", "one");
  writeText(dir / "a/two", "two");
  writeText(dir / "b/three", "three");
  writeText(dir / "plain", "plain");
  ASSERT_EQ(::symlink((dir / "b").c_str(), (dir / "link").c_str()), 0);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  struct {
    std::string path;
    const char* content;  // nullptr: an error with `code`
    ErrorCode code;
  } cases[] = {
      {dir / "a/one", "one", {}},
      {dir / "a/missing", nullptr, ErrorCode::kNotFound},
      {dir / "a/two", "two", {}},
      {dir / "nodir/x", nullptr, ErrorCode::kNotFound},
      {dir / "nodir/y", nullptr, ErrorCode::kNotFound},
      {dir / "plain/x", nullptr, ErrorCode::kNotFound},  // ENOTDIR
      {dir / "link/three", "three", {}},                 // symlinked directory
      {dir / "a/", nullptr, ErrorCode::kInvalidArgument},
      {dir / "a", nullptr, ErrorCode::kInvalidArgument},
      {"plain", "plain", {}},  // relative, no directory part
      {"b/three", "three", {}},
      {dir / "b/three", "three", {}},
  };
  std::vector<std::string> paths;
  for (const auto& c : cases) paths.push_back(c.path);
  for (unsigned threads : {1u, 3u}) {
    FileDigestCache cache(threads);
    for (int round = 0; round < 2; ++round) {  // the second round follows hints
      auto got = cache.digestFiles(paths);
      ASSERT_EQ(got.size(), paths.size());
      for (std::size_t i = 0; i < paths.size(); ++i) {
        SCOPED_TRACE(paths[i] + " threads " + std::to_string(threads));
        if (cases[i].content) {
          ASSERT_TRUE(got[i].has_value()) << got[i].error().toString();
          EXPECT_EQ(toHex(got[i]->sha256), testutil::sha256Hex(cases[i].content));
        } else {
          ASSERT_FALSE(got[i].has_value());
          EXPECT_EQ(got[i].error().code(), cases[i].code);
          EXPECT_NE(got[i].error().toString().find(paths[i]), std::string::npos);
        }
      }
    }
  }
  ASSERT_EQ(::chdir("/"), 0);
}

// Hints are by position in the previous list: another list (reordered, shorter,
// after a prune) must still get each file's own digest, and a file changed in place
// with its mtime restored is rehashed through a hint too.
TEST(FileDigestCache, HintsNeverReturnAnotherFilesDigest) {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 40; ++i) {
    paths.push_back(dir / ("d" + std::to_string(i % 3) + "/f" + std::to_string(i)));
    writeText(paths.back(), "content " + std::to_string(i));
  }
  testutil::waitOutRacyWindow();
  FileDigestCache cache(2);
  auto check = [&](const std::vector<std::string>& list, std::size_t want_hashed) {
    auto got = cache.digestFiles(list);
    for (std::size_t i = 0; i < list.size(); ++i) {
      ASSERT_TRUE(got[i].has_value()) << list[i];
      std::string n = list[i].substr(list[i].rfind("/f") + 2);
      std::ifstream in(list[i]);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(toHex(got[i]->sha256), testutil::sha256Hex(text)) << list[i];
    }
    EXPECT_EQ(cache.takeStats().hashed, want_hashed);
  };
  check(paths, paths.size());
  check(paths, 0);
  std::vector<std::string> reversed(paths.rbegin(), paths.rend());
  check(reversed, 0);
  std::vector<std::string> half(paths.begin() + 20, paths.end());
  cache.prune();
  check(half, 0);
  cache.prune();  // erases the first 20: hints are dropped
  check(half, 0);
  check(paths, 20);
  // Same size, mtime restored: ctime moved, so the hinted entry's key no longer matches.
  struct stat st {};
  ASSERT_EQ(::stat(paths[5].c_str(), &st), 0);
  writeText(paths[5], "CONTENT 5");
  timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, paths[5].c_str(), times, 0), 0);
  check(paths, 1);
}

TEST(FileDigestCache, PruneForgetsUnusedEntries) {
  TempDir dir;
  writeText(dir / "a", "a");
  writeText(dir / "b", "b");
  testutil::waitOutRacyWindow();
  FileDigestCache cache(1);
  ASSERT_TRUE(cache.digestFile(dir / "a").has_value());
  ASSERT_TRUE(cache.digestFile(dir / "b").has_value());
  EXPECT_EQ(cache.size(), 2u);
  cache.prune();  // both used this round
  ASSERT_TRUE(cache.digestFile(dir / "a").has_value());
  cache.prune();  // b unused since the last prune
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace bulwark::agent
