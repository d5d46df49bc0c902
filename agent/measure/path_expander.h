// Expands measure.include entries (and --include) into regular files: a file is
// itself, a directory is walked recursively (symlinks are not followed into other
// trees; a symlink to a file is measured as the file it names), anything with
// glob(3) metacharacters is a pattern whose matches are expanded the same way.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bulwark::agent {

struct ExpandedPaths {
  std::vector<std::string> files;  // sorted, distinct
  std::vector<std::string> notes;  // patterns without matches, unreadable directories
};

// `limit` bounds the number of files (a runaway pattern such as "/**" must not
// exhaust memory); reaching it is a note.
ExpandedPaths expandIncludes(const std::vector<std::string>& patterns,
                             std::size_t limit = 1'000'000);

bool hasGlobMeta(const std::string& s);

}  // namespace bulwark::agent
