// File edge of the measurement log: bounded reading under a shared lock, and the
// exclusively locked handle the writer works through. POSIX only (flock, fchmod).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::attest {

// Reads a log file for parsing: bounded size, no symlink at the last component, and
// a shared flock so the snapshot never contains a record a writer (Bulwark's or
// systemd's, which documents LOCK_EX for writers and LOCK_SH for readers) is still
// appending. Errors: kNotFound, kPermission, kIo, kInvalidArgument (too large).
[[nodiscard]] Result<Bytes> readCelFile(const std::string& path, std::size_t max_bytes = 64u << 20);

// "0f3c7b1e-...-..." or 32 hex digits → 32 lower-case hex digits (systemd's bootId form).
[[nodiscard]] Result<std::string> normalizeBootId(std::string_view text);
// Reads the kernel's random per-boot id (proc(5) /proc/sys/kernel/random/boot_id).
[[nodiscard]] Result<std::string> readBootId(
    const std::string& path = "/proc/sys/kernel/random/boot_id");

// An open, LOCK_EX-locked log file. Opening retries until the locked inode is still
// the one at `path`, so a writer that waited while another rotated the log never
// appends to the rotated file. Closing the handle releases the lock.
class CelLogFile {
 public:
  // Creates the parent directory (dir_mode) and the file (0600) when missing.
  [[nodiscard]] static Result<CelLogFile> openLocked(const std::string& path, unsigned dir_mode);

  CelLogFile(CelLogFile&& other) noexcept;
  CelLogFile& operator=(CelLogFile&& other) noexcept;
  CelLogFile(const CelLogFile&) = delete;
  CelLogFile& operator=(const CelLogFile&) = delete;
  ~CelLogFile();

  [[nodiscard]] Result<std::uint64_t> size() const;
  // The in-progress mark is the file's sticky bit, as systemd uses it: tmpfs (/run)
  // has no user xattrs, and a mode bit survives in every filesystem.
  [[nodiscard]] Result<bool> inProgress() const;
  [[nodiscard]] Result<void> setInProgress(bool on);
  // Reads [offset, offset+len) of the file; short only at end of file.
  [[nodiscard]] Result<std::string> read(std::uint64_t offset, std::size_t len) const;
  [[nodiscard]] Result<void> truncate(std::uint64_t size);
  // Appends all of `data` (O_APPEND, retried on short writes and EINTR).
  [[nodiscard]] Result<void> append(std::string_view data);
  [[nodiscard]] Result<void> sync();
  // fsync of the parent directory, after creating or renaming the file.
  [[nodiscard]] Result<void> syncDirectory() const;
  const std::string& path() const { return path_; }

 private:
  CelLogFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace bulwark::attest
