// Helpers shared by the CEL unit tests: a software PCR extender with real extend
// math, temp directories, testdata access and record builders.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
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

// Log text as the verifier would parse it (an empty log when it does not parse).
inline CelLog parseText(const std::string& text) {
  auto log = parseCel(view(text));
  EXPECT_TRUE(log.has_value()) << log.error().toString();
  return log.value_or(CelLog{});
}

// A log file as the verifier would parse it (an empty log when it does not parse).
inline CelLog parseFile(const std::string& path) { return parseText(readText(path)); }

// `n` distinct entries: /etc/<tag><i>.conf with digest SHA-256("<tag><i>").
inline std::vector<BatchEntry> entries(int n, const std::string& tag = "f") {
  std::vector<BatchEntry> out;
  for (int i = 0; i < n; ++i) {
    std::string s = tag + std::to_string(i);
    out.push_back({"file", "/etc/" + s + ".conf", sha256(asBytes(s))});
  }
  return out;
}

inline std::vector<std::string> subjects(const std::vector<BatchEntry>& es) {
  std::vector<std::string> out;
  for (const auto& e : es) out.push_back(e.subject);
  return out;
}

// Permission bits of a file, including the writer's in-progress mark (S_ISVTX).
inline mode_t fileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// PCR `pcr` of bank `alg` as replayed from every extending record of `log`, with
// `lost` extended right before record `at` (SIZE_MAX: never): the explanation a
// verifier can give for a mismatch once it sees a crashed writer's recovery marker.
inline Bytes replayWithLostExtend(const CelLog& log, HashAlg alg, std::size_t at = SIZE_MAX,
                                  ByteView lost = {}, std::uint32_t pcr = 15) {
  Bytes value = pcrResetValue(alg, pcr);
  for (const auto& r : log.records) {
    if (r.index == at) value = pcrExtend(alg, value, lost);
    if (!r.isNoAction()) value = pcrExtend(alg, value, *r.digestFor(alg));
  }
  return value;
}

// Lowers the soft RLIMIT_FSIZE of this process to `bytes`: the next write(2)
// beyond it fails (EFBIG, SIGXFSZ ignored) or kills the process (SIGXFSZ default).
inline void limitFileSize(std::uint64_t bytes) {
  struct rlimit tight {};
  ::getrlimit(RLIMIT_FSIZE, &tight);
  tight.rlim_cur = bytes;
  ::setrlimit(RLIMIT_FSIZE, &tight);
}

// For its lifetime SIGXFSZ is ignored, so a write beyond limitFileSize fails with
// EFBIG instead of killing the test; restores RLIMIT_FSIZE and the handler after.
class FileSizeLimitScope {
 public:
  FileSizeLimitScope() : old_handler_(::signal(SIGXFSZ, SIG_IGN)) {
    EXPECT_EQ(::getrlimit(RLIMIT_FSIZE, &saved_), 0);
  }
  ~FileSizeLimitScope() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimitScope(const FileSizeLimitScope&) = delete;
  FileSizeLimitScope& operator=(const FileSizeLimitScope&) = delete;

 private:
  sighandler_t old_handler_;
  struct rlimit saved_ {};
};

// Runs `crash` in a forked child that must die inside it (a signal, or _exit of its
// own); `status` gets the child's wait status for the caller to check. The child
// dumps no core and has SIGXFSZ's default action (a write beyond limitFileSize
// kills it mid-write, leaving a real torn record).
inline void runCrashingChild(const std::function<void()>& crash, int& status) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    struct rlimit no_core {
      0, 0
    };
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(SIGXFSZ, SIG_DFL);
    crash();
    ::_exit(3);  // not reached: the crash kills or exits the child first
  }
  ASSERT_EQ(::waitpid(child, &status, 0), child);
}

// A compact systemd-style record for hand-built cases.
inline std::string rec(const std::string& body) { return "\x1e" + body + "\n"; }

inline std::string sha256Hex(std::string_view s) { return toHex(sha256(asBytes(s))); }
inline std::string sha1Hex(std::string_view s) { return toHex(digest(HashAlg::kSha1, asBytes(s))); }

}  // namespace bulwark::attest::testing
