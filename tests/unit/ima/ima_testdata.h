// The real IMA list under tests/testdata/ima (see its README).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "attest/core/bytes.h"

namespace bulwark::attest::ima {

inline std::string imaTestdata(const std::string& rel) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/testdata/ima/" + rel;
}

inline std::string realLog() {
  auto bytes = readFile(imaTestdata("rust_keylime_agent_826/ascii_runtime_measurements"));
  EXPECT_TRUE(bytes.has_value());
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

}  // namespace bulwark::attest::ima
