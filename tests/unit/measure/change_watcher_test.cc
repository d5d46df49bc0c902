// inotify triggers with debounce: measured names only, rename-replacement,
// state directories, one callback per burst.
#include "agent/measure/change_watcher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>

#include "tests/unit/measure/measure_test_util.h"

namespace bulwark::agent {
namespace {

using testutil::TempDir;
using testutil::writeText;

struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> reasons;
  ChangeWatcher::Callback callback() {
    return [this](std::string_view r) {
      std::lock_guard lock(mu);
      reasons.emplace_back(r);
      cv.notify_all();
    };
  }
  // Waits until at least n callbacks arrived or `ms` passed; returns the count.
  std::size_t waitFor(std::size_t n, int ms) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return reasons.size() >= n; });
    return reasons.size();
  }
};

TEST(ChangeWatcher, TriggersTable) {
  struct Case {
    const char* name;
    std::function<void(const TempDir&)> act;
    bool expect;
    const char* reason_part;
  };
  std::vector<Case> cases = {
      {"write in place", [](const TempDir& d) { writeText(d / "watched/f", "new"); }, true,
       "watched/f"},
      {"replace by rename",
       [](const TempDir& d) {
         writeText(d / "watched/.tmp", "x");
         std::rename((d / "watched/.tmp").c_str(), (d / "watched/f").c_str());
       },
       true, "watched/f"},
      {"chmod", [](const TempDir& d) { ::chmod((d / "watched/f").c_str(), 0600); }, true,
       "watched/f"},
      {"delete", [](const TempDir& d) { ::unlink((d / "watched/f").c_str()); }, true, "watched/f"},
      {"other file in the same dir", [](const TempDir& d) { writeText(d / "watched/other", "x"); },
       false, ""},
      {"container state dir appears",
       [](const TempDir& d) { std::filesystem::create_directories(d / "state/c1"); }, true,
       "state/c1"},
      {"read only", [](const TempDir& d) { std::ifstream(d / "watched/f").get(); }, false, ""},
  };
  for (const auto& c : cases) {
    TempDir dir;
    writeText(dir / "watched/f", "old");
    std::filesystem::create_directories(dir / "state");
    Recorder rec;
    auto w = ChangeWatcher::start(std::chrono::milliseconds(30), rec.callback());
    ASSERT_TRUE(w.has_value());
    auto notes = (*w)->setPaths({dir / "watched/f"}, {dir / "state"});
    EXPECT_TRUE(notes.empty());
    EXPECT_EQ((*w)->watchCount(), 2u);
    c.act(dir);
    std::size_t got = rec.waitFor(1, c.expect ? 3000 : 300);
    EXPECT_EQ(got > 0, c.expect) << c.name;
    if (got > 0 && c.expect) {
      EXPECT_NE(rec.reasons[0].find(c.reason_part), std::string::npos) << c.name;
    }
  }
}

TEST(ChangeWatcher, BurstIsDebouncedIntoOneCallback) {
  TempDir dir;
  writeText(dir / "f", "0");
  Recorder rec;
  auto w = ChangeWatcher::start(std::chrono::milliseconds(200), rec.callback());
  ASSERT_TRUE(w.has_value());
  (void)(*w)->setPaths({dir / "f"}, {});
  for (int i = 0; i < 20; ++i) writeText(dir / "f", std::to_string(i));
  ASSERT_EQ(rec.waitFor(1, 3000), 1u);
  EXPECT_EQ(rec.waitFor(2, 500), 1u) << "one callback for the burst";
  EXPECT_NE(rec.reasons[0].find("more events"), std::string::npos) << rec.reasons[0];
}

TEST(ChangeWatcher, MissingDirectoryIsANoteAndUnwatchedPathsStopTriggering) {
  TempDir dir;
  writeText(dir / "a/f", "0");
  Recorder rec;
  auto w = ChangeWatcher::start(std::chrono::milliseconds(20), rec.callback());
  ASSERT_TRUE(w.has_value());
  auto notes = (*w)->setPaths({dir / "a/f", dir / "missing/g"}, {});
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("missing"), std::string::npos);
  (void)(*w)->setPaths({}, {});
  EXPECT_EQ((*w)->watchCount(), 0u);
  writeText(dir / "a/f", "1");
  EXPECT_EQ(rec.waitFor(1, 300), 0u);
}

}  // namespace
}  // namespace bulwark::agent
