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
#include <thread>

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
  ErrorCode code = err == ENOENT || err == ENOTDIR ? ErrorCode::kNotFound
                   : err == EACCES || err == EPERM ? ErrorCode::kPermission
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

FileDigestCache::Shard& FileDigestCache::shardFor(const std::string& path) {
  return shards_[std::hash<std::string>{}(path) % kShards];
}

std::optional<Bytes> FileDigestCache::lookup(const std::string& path, const FileKey& key) {
  Shard& shard = shardFor(path);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(path);
  if (it == shard.entries.end()) return std::nullopt;
  it->second.used = true;
  if (!(it->second.key == key)) return std::nullopt;
  return it->second.sha256;
}

void FileDigestCache::store(const std::string& path, const FileKey& key, const Bytes& sha256) {
  Shard& shard = shardFor(path);
  std::lock_guard lock(shard.mu);
  shard.entries[path] = Entry{key, sha256, true};
}

Result<FileDigest> FileDigestCache::digestFile(const std::string& path) {
  files_.fetch_add(1);
  return digestUncounted(path);
}

Result<FileDigest> FileDigestCache::digestUncounted(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errnoError(errno, path);
  if (!S_ISREG(st.st_mode)) return fail(ErrorCode::kInvalidArgument, "not a regular file", path);
  FileKey key = keyOf(st);
  if (auto cached = lookup(path, key)) return FileDigest{std::move(*cached), key, true};

  std::int64_t started = nowNs();
  // O_NONBLOCK: never hang on a FIFO swapped in after the stat; O_NOCTTY likewise.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
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
  FileKey opened = keyOf(st2);
  // Cache only a version that did not change while read and is not racy.
  bool stable = opened == keyOf(st3) && opened.ctime_ns < started - kRacyWindowNs &&
                opened.mtime_ns < started - kRacyWindowNs;
  if (stable) store(path, opened, *sha);
  return FileDigest{std::move(*sha), opened, false};
}

std::vector<Result<FileDigest>> FileDigestCache::digestFiles(const std::vector<std::string>& paths,
                                                             const Progress& progress) {
  std::vector<std::optional<Result<FileDigest>>> slots(paths.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex progress_mu;
  // Workers take chunks of paths: a warm cycle is one stat per file, and per-file
  // shared counters would cost as much as the stat in cache-line traffic. Small
  // lists (a few large binaries) still spread one file per worker.
  unsigned n = static_cast<unsigned>(std::min<std::size_t>(threads_, paths.size()));
  const std::size_t kChunk =
      std::clamp<std::size_t>(paths.size() / (std::max(1u, n) * 8u), 1, 64);
  auto worker = [&] {
    for (std::size_t begin = next.fetch_add(kChunk); begin < paths.size();
         begin = next.fetch_add(kChunk)) {
      const std::size_t end = std::min(paths.size(), begin + kChunk);
      for (std::size_t i = begin; i < end; ++i) slots[i].emplace(digestUncounted(paths[i]));
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
  std::vector<Result<FileDigest>> out;
  out.reserve(paths.size());
  for (auto& s : slots) out.push_back(std::move(*s));
  return out;
}

void FileDigestCache::prune() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      if (!it->second.used) {
        it = shard.entries.erase(it);
      } else {
        it->second.used = false;
        ++it;
      }
    }
  }
}

std::size_t FileDigestCache::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

HashStats FileDigestCache::takeStats() {
  return HashStats{files_.exchange(0), hashed_.exchange(0), bytes_.exchange(0)};
}

}  // namespace bulwark::agent
