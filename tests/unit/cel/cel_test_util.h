// Helpers shared by the CEL unit tests: a software PCR extender with real extend
// math, temp directories, testdata access and record builders.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_record.h"
#include "attest/cel/cel_replay.h"
#include "attest/cel/cel_writer.h"
#include "attest/core/bytes.h"
#include "attest/core/digest.h"

namespace bulwark::attest::testing {

// A software TPM PCR bank set: every extend is applied with pcrExtend (TPM 2.0
// Part 1 §17.6.2) and recorded, so tests can compare the log against "the TPM".
class FakePcrExtender : public PcrExtender {
 public:
  using Digests = std::vector<std::pair<HashAlg, Bytes>>;

  Result<void> extend(std::uint32_t pcr, const Digests& digests) override {
    if (fail_next) {
      fail_next = false;
      return fail(ErrorCode::kTpm, "TPM_RC_FAILURE (fake)", "Esys_PCR_Extend");
    }
    apply(pcr, digests);
    calls.emplace_back(pcr, digests);
    if (after_extend) after_extend();
    return {};
  }

  void apply(std::uint32_t pcr, const Digests& digests) {
    for (const auto& [alg, d] : digests) {
      auto key = std::make_pair(alg, pcr);
      auto it = pcrs.find(key);
      if (it == pcrs.end()) it = pcrs.emplace(key, pcrResetValue(alg, pcr)).first;
      it->second = pcrExtend(alg, it->second, d);
    }
  }

  // The value the TPM would report; reset value if never extended.
  Bytes value(HashAlg alg, std::uint32_t pcr) const {
    auto it = pcrs.find({alg, pcr});
    return it == pcrs.end() ? pcrResetValue(alg, pcr) : it->second;
  }

  std::map<std::pair<HashAlg, std::uint32_t>, Bytes> pcrs;
  std::vector<std::pair<std::uint32_t, Digests>> calls;
  std::function<void()> after_extend;
  bool fail_next = false;
};

// A fresh directory under the gtest temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "/bulwark_cel_XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string testdataPath(const std::string& name) {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  // ctest sets BULWARK_SOURCE_DIR; running the binary by hand falls back to this
  // header's location (tests/unit/cel/ under the source root).
  std::string root = src != nullptr ? std::string(src)
                                    : std::filesystem::path(__FILE__)
                                          .parent_path()
                                          .parent_path()
                                          .parent_path()
                                          .parent_path()
                                          .string();
  return root + "/tests/testdata/cel/" + name;
}

inline std::string readText(const std::string& path) {
  auto bytes = readFile(path);
  if (!bytes) return {};
  return std::string(bytes->begin(), bytes->end());
}

inline ByteView view(const std::string& s) { return asBytes(s); }

// A log file as the verifier would parse it (an empty log when it does not parse).
inline CelLog parseFile(const std::string& path) {
  auto log = parseCel(view(readText(path)));
  EXPECT_TRUE(log.has_value()) << log.error().toString();
  return log.value_or(CelLog{});
}

// Permission bits of a file, including the writer's in-progress mark (S_ISVTX).
inline mode_t fileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// A compact systemd-style record for hand-built cases.
inline std::string rec(const std::string& body) { return "\x1e" + body + "\n"; }

inline std::string sha256Hex(std::string_view s) { return toHex(sha256(asBytes(s))); }
inline std::string sha1Hex(std::string_view s) { return toHex(digest(HashAlg::kSha1, asBytes(s))); }

}  // namespace bulwark::attest::testing
