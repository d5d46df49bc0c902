// Change triggers for the measurement engine (DESIGN §3 step 5): inotify on the
// directories holding measured files (events filtered to the measured names, so a
// file replaced by rename is seen as well as one written in place) and on runtime
// state directories (a container's state dir appears/disappears on start/stop).
// Events are debounced: the callback runs once, `debounce` after the first event of
// a burst, with a reason naming the first path and how many followed. The callback
// runs on the watcher's thread and must not block for long.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "attest/core/error.h"

namespace bulwark::agent {

class ChangeWatcher {
 public:
  using Callback = std::function<void(std::string_view reason)>;

  [[nodiscard]] static Result<std::unique_ptr<ChangeWatcher>> start(
      std::chrono::milliseconds debounce, Callback callback);
  ~ChangeWatcher();  // stops and joins the thread
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  // Replaces the watched set. `files`: absolute paths of measured files;
  // `dirs`: directories where any entry change matters. Returns notes for paths
  // that could not be watched (missing directory, inotify watch limit).
  std::vector<std::string> setPaths(const std::vector<std::string>& files,
                                    const std::vector<std::string>& dirs);
  std::size_t watchCount() const;

 private:
  struct Watch {
    std::string dir;
    std::set<std::string> names;  // empty with `any`
    bool any = false;
  };
  ChangeWatcher(int inotify_fd, int event_fd, std::chrono::milliseconds debounce,
                Callback callback);
  void loop();
  void drain(std::chrono::steady_clock::time_point now);
  void noteEvent(const std::string& path, std::chrono::steady_clock::time_point now);

  int inotify_fd_;
  int event_fd_;
  std::chrono::milliseconds debounce_;
  Callback callback_;
  mutable std::mutex mu_;
  std::map<int, Watch> watches_;       // wd → what it watches
  std::map<std::string, int> by_dir_;  // dir → wd
  // Debounce state (loop thread only).
  bool pending_ = false;
  std::chrono::steady_clock::time_point fire_at_;
  std::string first_path_;
  std::size_t burst_ = 0;
  std::jthread thread_;
};

}  // namespace bulwark::agent
