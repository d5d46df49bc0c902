// SHA-256 of files with an incremental cache (DESIGN §4): an entry is reused while
// the file's (st_dev, st_ino, st_size, st_mtim, st_ctim) are unchanged, so an
// unchanged file costs one fstatat(2). Hashing runs on `threads` workers, each file on
// one worker (files are the unit of parallelism; a measured tree has many).
//
// The warm path is syscall-bound (a syscall costs ~1 us on a paravirtualized VM):
// digestFiles resolves each file relative to an open descriptor of its directory
// (consecutive paths of a sorted list share it), and a cache hit allocates nothing.
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
#include <string>
#include <unordered_map>
#include <utility>
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

using Sha256 = std::array<std::uint8_t, 32>;

struct FileDigest {
  Sha256 sha256{};
  FileKey key;
  bool from_cache = false;
};

struct HashStats {
  std::size_t files = 0;
  std::size_t hashed = 0;  // cache misses
  std::uint64_t bytes = 0;
};

// Thread-safety: call from one thread at a time (the engine's cycle thread);
// digestFiles runs its own workers. While they run the map is only read (entries of
// files hashed by the workers are stored after they joined), so lookups take no
// lock; only the entries' `used` flags are written, atomically.
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
  // digestFile without the files_ counter (digestFiles counts per chunk): `name`
  // relative to the directory `dirfd` (AT_FDCWD: `name` is `path`); `path` names
  // the file in errors and is the cache key.
  struct Hint;
  // `defer`: set *defer to whether a hashed digest may be cached instead of storing
  // it (digestFiles' workers must not write the map); null: store now.
  Result<FileDigest> digestAt(int dirfd, const char* name, const std::string& path,
                              const Hint* previous = nullptr, Hint* found = nullptr,
                              char* defer = nullptr);
  Result<FileDigest> hashAt(int dirfd, const char* name, const std::string& path, Hint* found,
                            char* defer);
  // One worker's open directory: resolve(path) gives (dirfd, name) for *at calls,
  // reopening only when the directory changes. Within a cycle a directory renamed
  // away keeps being read through its old descriptor for the rest of the worker's
  // run of files in it, as if those stats had happened just before the rename.
  class DirCursor {
   public:
    DirCursor() = default;
    DirCursor(const DirCursor&) = delete;
    DirCursor& operator=(const DirCursor&) = delete;
    ~DirCursor();
    std::pair<int, const char*> resolve(const std::string& path);

   private:
    std::string dir_;
    int fd_ = -1;
  };
  void digestRange(const std::vector<std::string>& paths, std::size_t begin, std::size_t end,
                   DirCursor& dir, std::vector<Result<FileDigest>>& out, std::vector<Hint>& found,
                   std::vector<char>& cacheable);
  struct Entry {
    FileKey key;
    Sha256 sha256{};
    bool used = true;  // written through std::atomic_ref by concurrent lookups
  };
  using Node = std::unordered_map<std::string, Entry>::value_type;
  // Where digestFiles found position i's entry last time. The same list comes back
  // every cycle, so the next call tries that node first: no hashing and no bucket
  // walk (the walk's cache misses cost as much as the rest of a warm lookup). The
  // path is still compared, so a hint can only save work, never return another
  // file's digest. Nodes of std::unordered_map never move; prune() (the only
  // eraser) drops the hints when it erases anything.
  struct Hint {
    Node* node = nullptr;
  };
  // The cached digest of `path` when its entry's key is `key` (marks the entry used).
  // Reads the map only: safe on digestFiles' workers.
  bool lookup(const std::string& path, const FileKey& key, Sha256& out, const Hint* previous,
              Hint* found);
  // Writes the map: the caller's thread only, never while workers run.
  void store(const std::string& path, const FileKey& key, const Sha256& sha256, Hint* found);

  unsigned threads_;
  std::unordered_map<std::string, Entry> entries_;
  std::vector<Hint> hints_;  // by position in the last digestFiles list
  std::atomic<std::size_t> files_{0};
  std::atomic<std::size_t> hashed_{0};
  std::atomic<std::uint64_t> bytes_{0};
};

// Hashes an open file descriptor from its current offset to EOF (SHA-256).
[[nodiscard]] Result<Bytes> sha256Fd(int fd, std::uint64_t* bytes_read = nullptr);

}  // namespace bulwark::agent
