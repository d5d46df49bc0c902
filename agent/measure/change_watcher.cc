#include "agent/measure/change_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bulwark::agent {

namespace {

// Written in place, replaced by rename, created, deleted, chmod/chown.
constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE |
                                IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR;

std::pair<std::string, std::string> splitPath(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

Result<std::unique_ptr<ChangeWatcher>> ChangeWatcher::start(std::chrono::milliseconds debounce,
                                                            Callback callback) {
  int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) return fail(ErrorCode::kIo, std::string("inotify_init1: ") + std::strerror(errno));
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    int err = errno;
    ::close(ifd);
    return fail(ErrorCode::kIo, std::string("eventfd: ") + std::strerror(err));
  }
  std::unique_ptr<ChangeWatcher> w(new ChangeWatcher(ifd, efd, debounce, std::move(callback)));
  w->thread_ = std::jthread([raw = w.get()] { raw->loop(); });
  return w;
}

ChangeWatcher::ChangeWatcher(int inotify_fd, int event_fd, std::chrono::milliseconds debounce,
                             Callback callback)
    : inotify_fd_(inotify_fd),
      event_fd_(event_fd),
      debounce_(debounce),
      callback_(std::move(callback)) {}

ChangeWatcher::~ChangeWatcher() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(inotify_fd_);
  ::close(event_fd_);
}

std::vector<std::string> ChangeWatcher::setPaths(const std::vector<std::string>& files,
                                                 const std::vector<std::string>& dirs) {
  std::map<std::string, Watch> want;
  for (const auto& f : files) {
    auto [dir, name] = splitPath(f);
    auto& w = want[dir];
    w.dir = dir;
    w.names.insert(name);
  }
  for (const auto& d : dirs) {
    auto& w = want[d];
    w.dir = d;
    w.any = true;
  }
  std::vector<std::string> notes;
  std::lock_guard lock(mu_);
  for (auto it = by_dir_.begin(); it != by_dir_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    ::inotify_rm_watch(inotify_fd_, it->second);
    watches_.erase(it->second);
    it = by_dir_.erase(it);
  }
  for (auto& [dir, w] : want) {
    // inotify_add_watch on a watched inode returns the same wd and replaces the mask.
    int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kMask);
    if (wd < 0) {
      notes.push_back("watch " + dir + ": " + std::strerror(errno) +
                      (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : ""));
      continue;
    }
    by_dir_[dir] = wd;
    watches_[wd] = std::move(w);
  }
  return notes;
}

std::size_t ChangeWatcher::watchCount() const {
  std::lock_guard lock(mu_);
  return watches_.size();
}

void ChangeWatcher::noteEvent(const std::string& path, std::chrono::steady_clock::time_point now) {
  if (!pending_) {
    pending_ = true;
    fire_at_ = now + debounce_;
    first_path_ = path;
    burst_ = 0;
  }
  ++burst_;
}

void ChangeWatcher::drain(std::chrono::steady_clock::time_point now) {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN: drained
    std::lock_guard lock(mu_);
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        noteEvent("(inotify queue overflow)", now);
        continue;
      }
      auto it = watches_.find(ev->wd);
      if (it == watches_.end()) continue;
      std::string name = ev->len ? std::string(ev->name) : std::string();
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        noteEvent(it->second.dir, now);
      } else if (!name.empty() && (it->second.any || it->second.names.count(name))) {
        noteEvent(it->second.dir + "/" + name, now);
      }
    }
  }
}

void ChangeWatcher::loop() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    int timeout = -1;
    if (pending_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(fire_at_ - Clock::now());
      timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, timeout);
    if (rc < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;  // stop
    if (fds[0].revents & POLLIN) drain(Clock::now());
    if (pending_ && Clock::now() >= fire_at_) {
      pending_ = false;
      std::string reason = "changed: " + first_path_;
      if (burst_ > 1) reason += " (+" + std::to_string(burst_ - 1) + " more events)";
      if (callback_) callback_(reason);
    }
  }
}

}  // namespace bulwark::agent
