#include "agent/measure/file_digest_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "attest/core/digest.h"

namespace bulwark::agent {

namespace {

// Large reads keep the syscall count low; one buffer per thread.
constexpr std::size_t kReadChunk = 1u << 20;
// Coarse kernel timestamps tick at most every jiffy (1-10 ms); 100 ms is generous.
constexpr std::int64_t kRacyWindowNs = 100'000'000;

std::int64_t toNs(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

FileKey keyOf(const struct stat& st) {
  return FileKey{st.st_dev, st.st_ino, st.st_size, toNs(st.st_mtim), toNs(st.st_ctim)};
}

std::int64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return toNs(ts);
}

std::unexpected<Error> errnoError(int err, const std::string& path) {
  // ESRCH: a /proc/PID directory opened before its process exited.
  ErrorCode code = err == ENOENT || err == ENOTDIR || err == ESRCH ? ErrorCode::kNotFound
                   : err == EACCES || err == EPERM                 ? ErrorCode::kPermission
                                                                   : ErrorCode::kIo;
  return fail(code, std::strerror(err), path);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

FileDigestCache::DirCursor::~DirCursor() {
  if (fd_ >= 0) ::close(fd_);
}

std::pair<int, const char*> FileDigestCache::DirCursor::resolve(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  // No directory part, or a trailing slash: the whole path, as stat(2) would see it.
  if (slash == std::string::npos || slash + 1 == path.size()) return {AT_FDCWD, path.c_str()};
  const std::size_t dir_len = slash == 0 ? 1 : slash;  // "/x" lives in "/"
  // dir_ starts empty and dir_len is at least 1: the first path always opens.
  if (dir_.size() != dir_len || path.compare(0, dir_len, dir_) != 0) {
    if (fd_ >= 0) ::close(fd_);
    dir_.assign(path, 0, dir_len);
    // O_PATH: resolving names needs search permission only, like stat(2) on the full
    // path. A directory that cannot be opened leaves fd_ -1: its files are looked up
    // by full path, so the error names what really failed.
    fd_ = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd_ < 0) return {AT_FDCWD, path.c_str()};
  return {fd_, path.c_str() + slash + 1};
}

Result<Bytes> sha256Fd(int fd, std::uint64_t* bytes_read) {
  thread_local std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[kReadChunk]);
  Hasher h(HashAlg::kSha256);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kReadChunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::kIo, std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    h.update(ByteView(buf.get(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
  if (bytes_read) *bytes_read = total;
  return h.finish();
}

FileDigestCache::FileDigestCache(unsigned threads)
    : threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {}

bool FileDigestCache::lookup(const std::string& path, const FileKey& key, Sha256& out,
                             const Hint* previous, Hint* found) {
  Node* node =
      previous && previous->node && previous->node->first == path ? previous->node : nullptr;
  if (!node) {
    auto it = entries_.find(path);
    if (it == entries_.end()) return false;
    node = &*it;
  }
  if (found) found->node = node;
  // A list may name one path twice: two workers can mark the same entry.
  std::atomic_ref<bool>(node->second.used).store(true, std::memory_order_relaxed);
  if (!(node->second.key == key)) return false;
  out = node->second.sha256;
  return true;
}

void FileDigestCache::store(const std::string& path, const FileKey& key, const Sha256& sha256,
                            Hint* found) {
  auto [it, inserted] = entries_.insert_or_assign(path, Entry{key, sha256, true});
  if (found) found->node = &*it;
}

Result<FileDigest> FileDigestCache::digestFile(const std::string& path) {
  files_.fetch_add(1);
  return digestAt(AT_FDCWD, path.c_str(), path);
}

Result<FileDigest> FileDigestCache::digestAt(int dirfd, const char* name, const std::string& path,
                                             const Hint* previous, Hint* found, char* defer) {
  struct stat st {};
  // Follows symlinks like stat(2): /proc/PID/exe reaches the running executable.
  if (::fstatat(dirfd, name, &st, 0) != 0) return errnoError(errno, path);
  if (!S_ISREG(st.st_mode)) return fail(ErrorCode::kInvalidArgument, "not a regular file", path);
  FileDigest out;
  out.key = keyOf(st);
  if (lookup(path, out.key, out.sha256, previous, found)) {
    out.from_cache = true;
    return out;
  }
  return hashAt(dirfd, name, path, found, defer);
}

Result<FileDigest> FileDigestCache::hashAt(int dirfd, const char* name, const std::string& path,
                                           Hint* found, char* defer) {
  std::int64_t started = nowNs();
  // O_NONBLOCK: never hang on a FIFO swapped in after the stat; O_NOCTTY likewise.
  Fd f{::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (f.fd < 0) return errnoError(errno, path);
  struct stat st2 {};
  if (::fstat(f.fd, &st2) != 0) return errnoError(errno, path);
  if (!S_ISREG(st2.st_mode)) return fail(ErrorCode::kInvalidArgument, "not a regular file", path);
  ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::uint64_t n = 0;
  auto sha = sha256Fd(f.fd, &n);
  if (!sha) {
    Error e = sha.error();
    return std::unexpected(e.within(path));
  }
  struct stat st3 {};
  if (::fstat(f.fd, &st3) != 0) return errnoError(errno, path);
  hashed_.fetch_add(1);
  bytes_.fetch_add(n);
  FileDigest out;
  out.key = keyOf(st2);
  std::copy_n(sha->begin(), std::min(sha->size(), out.sha256.size()), out.sha256.begin());
  // Cache only a version that did not change while read and is not racy: a write
  // within the timestamp granularity of `started` could keep (size, mtime, ctime).
  bool stable = out.key == keyOf(st3) && out.key.ctime_ns < started - kRacyWindowNs &&
                out.key.mtime_ns < started - kRacyWindowNs;
  if (defer) {
    *defer = stable;
  } else if (stable) {
    store(path, out.key, out.sha256, found);
  }
  return out;
}

void FileDigestCache::digestRange(const std::vector<std::string>& paths, std::size_t begin,
                                  std::size_t end, DirCursor& dir,
                                  std::vector<Result<FileDigest>>& out, std::vector<Hint>& found,
                                  std::vector<char>& cacheable) {
  for (std::size_t i = begin; i < end; ++i) {
    auto [dirfd, name] = dir.resolve(paths[i]);
    out[i] = digestAt(dirfd, name, paths[i], i < hints_.size() ? &hints_[i] : nullptr, &found[i],
                      &cacheable[i]);
  }
}

std::vector<Result<FileDigest>> FileDigestCache::digestFiles(const std::vector<std::string>& paths,
                                                             const Progress& progress) {
  // Every slot is written by exactly one worker (the one that took its chunk).
  std::vector<Result<FileDigest>> out(paths.size());
  std::vector<Hint> found(paths.size());
  std::vector<char> cacheable(paths.size(), 0);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex progress_mu;
  // Workers take chunks of paths: a warm cycle is one stat per file, and per-file
  // shared counters would cost as much as the stat in cache-line traffic. Small
  // lists (a few large binaries) still spread one file per worker.
  unsigned n = static_cast<unsigned>(std::min<std::size_t>(threads_, paths.size()));
  const std::size_t kChunk = std::clamp<std::size_t>(paths.size() / (std::max(1u, n) * 8u), 1, 64);
  auto worker = [&] {
    DirCursor dir;
    for (std::size_t begin = next.fetch_add(kChunk); begin < paths.size();
         begin = next.fetch_add(kChunk)) {
      const std::size_t end = std::min(paths.size(), begin + kChunk);
      digestRange(paths, begin, end, dir, out, found, cacheable);
      files_.fetch_add(end - begin);
      std::size_t d = done.fetch_add(end - begin) + (end - begin);
      if (progress) {
        std::lock_guard lock(progress_mu);
        progress(d, paths.size(), bytes_.load());
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (cacheable[i] && out[i]) store(paths[i], out[i]->key, out[i]->sha256, &found[i]);
  }
  hints_ = std::move(found);
  return out;
}

void FileDigestCache::prune() {
  bool erased = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.used) {
      it = entries_.erase(it);
      erased = true;
    } else {
      it->second.used = false;
      ++it;
    }
  }
  if (erased) hints_.clear();  // some hinted node may be gone
}

std::size_t FileDigestCache::size() const { return entries_.size(); }

HashStats FileDigestCache::takeStats() {
  return HashStats{files_.exchange(0), hashed_.exchange(0), bytes_.exchange(0)};
}

}  // namespace bulwark::agent
