#include "agent/measure/path_expander.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace bulwark::agent {

namespace {

namespace fs = std::filesystem;

void walk(const std::string& dir, ExpandedPaths& out, std::size_t limit) {
  std::error_code ec;
  auto it =
      fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    out.notes.push_back("include " + dir + ": " + ec.message());
    return;
  }
  for (auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
    if (ec) {
      out.notes.push_back("include " + dir + ": " + ec.message());
      return;
    }
    std::error_code sec;
    // A link inside a tree is not followed (it could lead anywhere). is_symlink and
    // is_regular_file use the type readdir(3) reported (d_type) and stat only when
    // the filesystem gives none; symlink_status() would lstat(2) every file, which
    // on a warm cycle costs as much as the cache's own stat.
    if (!it->is_symlink(sec) && !sec && it->is_regular_file(sec) && !sec) {
      if (out.files.size() >= limit) {
        out.notes.push_back("include: stopped at " + std::to_string(limit) + " files");
        return;
      }
      out.files.push_back(it->path().string());
    }
  }
}

void addOne(const std::string& path, ExpandedPaths& out, std::size_t limit) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    out.notes.push_back("include " + path + ": does not exist or is not reachable");
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    walk(path, out, limit);
  } else if (S_ISREG(st.st_mode)) {
    if (out.files.size() < limit) out.files.push_back(path);
  } else {
    out.notes.push_back("include " + path + ": not a regular file or directory, skipped");
  }
}

}  // namespace

bool hasGlobMeta(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

ExpandedPaths expandIncludes(const std::vector<std::string>& patterns, std::size_t limit) {
  ExpandedPaths out;
  for (const auto& p : patterns) {
    if (!hasGlobMeta(p)) {
      addOne(p, out, limit);
      continue;
    }
    glob_t g{};
    int rc = ::glob(p.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      out.notes.push_back("include " + p + ": no match");
    } else if (rc != 0) {
      out.notes.push_back("include " + p + ": glob failed");
    } else {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) addOne(g.gl_pathv[i], out, limit);
    }
    ::globfree(&g);
  }
  std::sort(out.files.begin(), out.files.end());
  out.files.erase(std::unique(out.files.begin(), out.files.end()), out.files.end());
  return out;
}

}  // namespace bulwark::agent
