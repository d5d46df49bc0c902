// Scratch directories and files for the measurement unit tests.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"

namespace bulwark::agent::testutil {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-measure-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made) path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void writeText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline std::string sha256Hex(const std::string& text) { return toHex(sha256(asBytes(text))); }

// Moves a file's timestamps into the past so the cache's racy-entry rule
// (recently changed files are not cached) does not apply; ctime cannot be set, so
// callers that need cache hits also wait out the window.
inline void waitOutRacyWindow() { ::usleep(150'000); }

}  // namespace bulwark::agent::testutil
