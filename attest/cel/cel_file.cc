#include "attest/cel/cel_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

namespace bulwark::attest {

namespace {

std::unexpected<Error> errnoFail(std::string_view op, const std::string& path, int err = errno) {
  ErrorCode code = err == ENOENT                   ? ErrorCode::kNotFound
                   : err == EACCES || err == EPERM ? ErrorCode::kPermission
                                                   : ErrorCode::kIo;
  return fail(code, std::string(op) + ": " + std::strerror(err), path);
}

int lockRetrying(int fd, int op) {
  int rc;
  do {
    rc = ::flock(fd, op);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// mkdir -p that applies dir_mode only to directories it creates (never to /run).
Result<void> makeParent(const std::string& path, unsigned dir_mode) {
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto p = std::filesystem::path(path).parent_path(); !p.empty() && p != p.root_path();
       p = p.parent_path()) {
    if (std::filesystem::exists(p, ec)) break;
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), static_cast<mode_t>(dir_mode)) < 0 && errno != EEXIST) {
      return errnoFail("mkdir", it->string());
    }
  }
  return {};
}

}  // namespace

Result<Bytes> readCelFile(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not hang; it is then refused as not regular.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return errnoFail("open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return errnoFail("fstat", path);
  if (!S_ISREG(st.st_mode)) return fail(ErrorCode::kInvalidArgument, "not a regular file", path);
  // Best effort: copies of logs on filesystems without flock are still readable.
  (void)lockRetrying(fd.get(), LOCK_SH);
  Bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoFail("read", path);
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return fail(ErrorCode::kInvalidArgument,
                  "log is larger than " + std::to_string(max_bytes) + " bytes", path);
    }
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<std::string> normalizeBootId(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '-' || c == '\n') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return fail(ErrorCode::kMalformed, "boot id has a non-hex character");
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.size() != 32) return fail(ErrorCode::kMalformed, "boot id is not 128 bits");
  return out;
}

Result<std::string> readBootId(const std::string& path) {
  auto bytes = readFile(path, 256);
  if (!bytes) return std::unexpected(bytes.error());
  auto id = normalizeBootId(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!id) return std::unexpected(id.error().within(path));
  return id;
}

Result<CelLogFile> CelLogFile::openLocked(const std::string& path, unsigned dir_mode) {
  if (auto dir = makeParent(path, dir_mode); !dir) return std::unexpected(dir.error());
  for (int attempt = 0; attempt < 16; ++attempt) {
    Fd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                 0600));
    if (fd.get() < 0) return errnoFail("open", path);
    if (lockRetrying(fd.get(), LOCK_EX) < 0) return errnoFail("flock", path);
    struct stat locked {
    }, current{};
    if (::fstat(fd.get(), &locked) < 0) return errnoFail("fstat", path);
    if (!S_ISREG(locked.st_mode))
      return fail(ErrorCode::kInvalidArgument, "not a regular file", path);
    if (::lstat(path.c_str(), &current) == 0 && current.st_dev == locked.st_dev &&
        current.st_ino == locked.st_ino) {
      return CelLogFile(fd.release(), path);
    }
    // The file was rotated or removed while we waited for the lock: try again.
  }
  return fail(ErrorCode::kUnavailable, "log keeps being replaced while locking", path);
}

CelLogFile::CelLogFile(CelLogFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

CelLogFile& CelLogFile::operator=(CelLogFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

CelLogFile::~CelLogFile() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<std::uint64_t> CelLogFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) < 0) return errnoFail("fstat", path_);
  return static_cast<std::uint64_t>(st.st_size);
}

Result<bool> CelLogFile::inProgress() const {
  struct stat st {};
  if (::fstat(fd_, &st) < 0) return errnoFail("fstat", path_);
  return (st.st_mode & S_ISVTX) != 0;
}

Result<void> CelLogFile::setInProgress(bool on) {
  struct stat st {};
  if (::fstat(fd_, &st) < 0) return errnoFail("fstat", path_);
  mode_t mode = st.st_mode & 07777;
  mode = on ? (mode | S_ISVTX) : (mode & ~static_cast<mode_t>(S_ISVTX));
  if (::fchmod(fd_, mode) < 0) return errnoFail("fchmod", path_);
  return {};
}

Result<std::string> CelLogFile::read(std::uint64_t offset, std::size_t len) const {
  std::string out(len, '\0');
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd_, out.data() + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoFail("pread", path_);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

Result<void> CelLogFile::truncate(std::uint64_t new_size) {
  if (::ftruncate(fd_, static_cast<off_t>(new_size)) < 0) return errnoFail("ftruncate", path_);
  return {};
}

Result<void> CelLogFile::append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoFail("write", path_);
    if (n == 0) return fail(ErrorCode::kIo, "write: no progress", path_);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> CelLogFile::sync() {
  if (::fsync(fd_) < 0) return errnoFail("fsync", path_);
  return {};
}

Result<void> CelLogFile::syncDirectory() const {
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0) return errnoFail("open directory", dir);
  if (::fsync(d.get()) < 0) return errnoFail("fsync directory", dir);
  return {};
}

}  // namespace bulwark::attest
