// Shared helpers for the inspect unit tests: the source tree and captured data.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace bulwark::agent::inspect_test {

inline std::string sourceDir() {
  const char* d = std::getenv("BULWARK_SOURCE_DIR");
  return d != nullptr ? d : ".";
}

inline std::string profilesDir() { return sourceDir() + "/profiles"; }

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// tests/unit/inspect/testdata/<name> (see its README for how it was captured).
inline std::string testData(const std::string& name) {
  return readText(sourceDir() + "/tests/unit/inspect/testdata/" + name);
}

}  // namespace bulwark::agent::inspect_test
