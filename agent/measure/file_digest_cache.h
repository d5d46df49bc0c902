// SHA-256 of files with an incremental cache (DESIGN §4): an entry is reused while
// the file's (st_dev, st_ino, st_size, st_mtim, st_ctim) are unchanged, so an
// unchanged file costs one stat(2). Hashing runs on `threads` workers, each file on
// one worker (files are the unit of parallelism; a measured tree has many).
//
// A file modified within the filesystem timestamp granularity of being hashed would
// keep its (size, mtime, ctime) key while its content changes ("racy" entries, as
// git calls them): such entries are hashed but not cached, so the next cycle reads
// the file again.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

// The identity of one version of a file.
struct FileKey {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileKey&) const = default;
};

struct FileDigest {
  Bytes sha256;
  FileKey key;
  bool from_cache = false;
};

struct HashStats {
  std::size_t files = 0;
  std::size_t hashed = 0;  // cache misses
  std::uint64_t bytes = 0;
};

class FileDigestCache {
 public:
  using Progress = std::function<void(std::size_t done, std::size_t total, std::uint64_t bytes)>;

  explicit FileDigestCache(unsigned threads = 0);

  // Digest of one file (stat(2) follows symlinks, so /proc/PID/exe reaches the
  // running executable even after it was deleted). Errors: kNotFound,
  // kPermission, kInvalidArgument (not a regular file), kIo.
  [[nodiscard]] Result<FileDigest> digestFile(const std::string& path);

  // Digests of many files on the worker threads; results in input order.
  std::vector<Result<FileDigest>> digestFiles(const std::vector<std::string>& paths,
                                              const Progress& progress = {});

  // Forgets entries not looked up since the last prune (files no longer measured).
  void prune();
  std::size_t size() const;
  HashStats takeStats();
  unsigned threads() const { return threads_; }

 private:
  // digestFile without the files_ counter (digestFiles counts per chunk).
  Result<FileDigest> digestUncounted(const std::string& path);
  struct Entry {
    FileKey key;
    Bytes sha256;
    bool used = true;
  };
  // Sharded by path hash so the hashing threads rarely contend on a lock: a warm
  // cycle is one stat and one lookup per file.
  static constexpr std::size_t kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;
  };
  Shard& shardFor(const std::string& path);
  std::optional<Bytes> lookup(const std::string& path, const FileKey& key);
  void store(const std::string& path, const FileKey& key, const Bytes& sha256);

  unsigned threads_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> files_{0};
  std::atomic<std::size_t> hashed_{0};
  std::atomic<std::uint64_t> bytes_{0};
};

// Hashes an open file descriptor from its current offset to EOF (SHA-256).
[[nodiscard]] Result<Bytes> sha256Fd(int fd, std::uint64_t* bytes_read = nullptr);

}  // namespace bulwark::agent
