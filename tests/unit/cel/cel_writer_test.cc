#include "attest/cel/cel_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"
#include "tests/unit/cel/cel_test_util.h"

namespace bulwark::attest {
namespace {

using testing::FakePcrExtender;
using testing::fileMode;
using testing::FileSizeLimitScope;
using testing::limitFileSize;
using testing::parseFile;
using testing::replayWithLostExtend;
using testing::runCrashingChild;
using testing::TempDir;
using testing::view;

const std::string kBoot = "6f1d2c3b4a5948e7b6c5d4e3f2a1b0c9";  // same as make_samples.py

CelWriter makeWriter(const std::string& path, FakePcrExtender& fake,
                     std::vector<HashAlg> banks = {HashAlg::kSha1, HashAlg::kSha256}) {
  CelWriterOptions opts;
  opts.path = path;
  opts.banks = std::move(banks);
  auto w = CelWriter::create(opts, fake);
  EXPECT_TRUE(w.has_value()) << w.error().toString();
  return std::move(*w);
}

std::vector<BatchEntry> batch(const std::string& tag) {
  return {{"file", "/usr/bin/" + tag, sha256(asBytes(tag))}};
}

// The log, replayed, equals what the (fake) TPM holds in every bank.
void expectReplayMatchesTpm(const std::string& path, const FakePcrExtender& fake,
                            std::uint32_t pcr = 15) {
  CelLog log = parseFile(path);
  EXPECT_FALSE(log.torn.has_value());
  EXPECT_TRUE(checkBulwarkRecords(log).empty());
  CelReplayOptions opts;
  opts.banks = {HashAlg::kSha1, HashAlg::kSha256};
  CelReplay r = replayCel(log, opts);
  for (HashAlg alg : opts.banks) {
    ASSERT_TRUE(r.banks.at(alg).has_value()) << r.banks.at(alg).error().toString();
    const auto& values = *r.banks.at(alg);
    Bytes replayed = values.count(pcr) ? values.at(pcr) : pcrResetValue(alg, pcr);
    EXPECT_EQ(toHex(replayed), toHex(fake.value(alg, pcr))) << hashAlgName(alg);
  }
}

TEST(CelWriter, OneExtendPerAppendAndReplayMatchesTpm) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("run/bulwark/measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  EXPECT_TRUE(fake.calls.empty());  // log-start is not extended
  for (int i = 0; i < 3; ++i) {
    auto r = w.appendBatch(batch("tool" + std::to_string(i)));
    ASSERT_TRUE(r.has_value()) << r.error().toString();
    ASSERT_EQ(fake.calls.size(), static_cast<std::size_t>(i + 1));
    EXPECT_EQ(fake.calls.back().first, 15u);
    ASSERT_EQ(fake.calls.back().second.size(), r->digests.size());
    for (std::size_t k = 0; k < r->digests.size(); ++k) {
      EXPECT_EQ(fake.calls.back().second[k].first, r->digests[k].alg);
      EXPECT_EQ(fake.calls.back().second[k].second, r->digests[k].value);
    }
    EXPECT_FALSE(r->recovery.any());
  }
  EXPECT_EQ(parseFile(path).records.size(), 4u);
  expectReplayMatchesTpm(path, fake);
  EXPECT_EQ(fileMode(path), 0600u);  // and the in-progress mark is cleared
  EXPECT_EQ(fileMode(dir.file("run/bulwark")), 0700u);
}

// Python wrote tests/testdata/cel/bulwark-measure.log from the same inputs.
TEST(CelWriter, ByteIdenticalToIndependentSample) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  std::vector<BatchEntry> first{{"file", "/usr/bin/runc", sha256(asBytes("runc 1.1.5"))},
                                {"file", "/usr/bin/containerd", sha256(asBytes("containerd"))}};
  std::string ab(64, 'a');
  for (std::size_t i = 1; i < ab.size(); i += 2) ab[i] = 'b';
  std::vector<BatchEntry> second{
      {"image", "registry.example/app@sha256:" + ab, fromHex(ab).value()}};
  ASSERT_TRUE(w.appendBatch(first).has_value());
  ASSERT_TRUE(w.appendBatch(second).has_value());
  EXPECT_EQ(testing::readText(path),
            testing::readText(testing::testdataPath("bulwark-measure.log")));
}

TEST(CelWriter, BeginBootCreatesKeepsAndRotates) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  auto created = w.beginBoot("6F1D2C3B-4A59-48E7-B6C5-D4E3F2A1B0C9\n");
  ASSERT_TRUE(created.has_value()) << created.error().toString();
  EXPECT_TRUE(created->created);
  ASSERT_TRUE(w.appendBatch(batch("a")).has_value());
  std::string before = testing::readText(path);

  auto same = w.beginBoot(kBoot);
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->created || same->rotated || same->recovery.any());
  EXPECT_EQ(testing::readText(path), before);

  std::string next_boot(32, 'e');
  auto rotated = w.beginBoot(next_boot);
  ASSERT_TRUE(rotated.has_value());
  EXPECT_TRUE(rotated->rotated);
  EXPECT_EQ(rotated->previous_boot_id, kBoot);
  EXPECT_EQ(testing::readText(path + ".prev"), before);
  CelLog fresh = parseFile(path);
  ASSERT_EQ(fresh.records.size(), 1u);
  EXPECT_TRUE(fresh.records[0].isNoAction());
  EXPECT_EQ(fresh.records[0].content.at("boot_id"), next_boot);
  EXPECT_EQ(fileMode(path), 0600u);
}

TEST(CelWriter, ForeignFileIsRotatedAway) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  std::ofstream(path) << "not a log";
  CelWriter w = makeWriter(path, fake);
  auto r = w.beginBoot(kBoot);
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_TRUE(r->rotated);
  EXPECT_EQ(r->previous_boot_id, "");
  EXPECT_EQ(testing::readText(path + ".prev"), "not a log");
}

TEST(CelWriter, TornTailIsTruncatedAndReported) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  ASSERT_TRUE(w.appendBatch(batch("a")).has_value());
  const std::string torn = "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sh";
  std::ofstream(path, std::ios::app) << torn;
  ASSERT_EQ(::chmod(path.c_str(), 0600 | S_ISVTX), 0);  // as a crashed writer leaves it
  CelLog damaged = parseFile(path);
  ASSERT_TRUE(damaged.torn.has_value());
  EXPECT_EQ(damaged.torn->size, torn.size());

  auto r = w.appendBatch(batch("b"));
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(r->recovery.torn_bytes, torn.size());
  EXPECT_TRUE(r->recovery.interrupted);
  CelLog log = parseFile(path);
  ASSERT_EQ(log.records.size(), 4u);  // log-start, a, recovery, b
  EXPECT_EQ(log.records[2].content.at("event"), "recovery");
  EXPECT_EQ(log.records[2].content.at("torn_bytes"), torn.size());
  EXPECT_TRUE(log.records[2].isNoAction());
  expectReplayMatchesTpm(path, fake);  // this torn record was never extended
  EXPECT_EQ(fileMode(path), 0600u);
}

// Extend succeeds, then the append fails (file size limit hit mid-write).
TEST(CelWriter, AppendFailureAfterExtendIsDetectedNextTime) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  ASSERT_TRUE(w.appendBatch(batch("a")).has_value());
  auto size_before = std::filesystem::file_size(path);

  auto failed = [&] {
    FileSizeLimitScope scope;
    fake.after_extend = [&] { limitFileSize(size_before + 10); };
    return w.appendBatch(batch("lost"));
  }();
  fake.after_extend = nullptr;
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().toString().find("pcr extended but record not appended"),
            std::string::npos);
  EXPECT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(std::filesystem::file_size(path), size_before);  // partial bytes dropped
  EXPECT_EQ(fileMode(path), 0600u | S_ISVTX);                // mark left for the next writer

  auto r = w.appendBatch(batch("b"));
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_TRUE(r->recovery.interrupted);
  EXPECT_EQ(r->recovery.torn_bytes, 0u);
  CelLog log = parseFile(path);
  EXPECT_TRUE(checkBulwarkRecords(log).empty());
  CelReplay replay = replayCel(log);
  for (HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256}) {
    EXPECT_NE(replay.banks.at(alg)->at(15), fake.value(alg, 15));  // the lost extend shows
    const Bytes& lost = fake.calls[1].second[alg == HashAlg::kSha1 ? 0 : 1].second;
    EXPECT_EQ(replayWithLostExtend(log, alg, 2, lost), fake.value(alg, 15));  // and is explained
  }
}

// A writer process dies inside write(2) after the extend: a real torn tail.
TEST(CelWriter, CrashMidWriteLeavesTornTailThatTheNextWriterRepairs) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  ASSERT_TRUE(w.appendBatch(batch("a")).has_value());
  auto size_before = std::filesystem::file_size(path);
  constexpr std::size_t kWritten = 25;

  int status = 0;
  // SIGXFSZ kills the child in the write(2) after the extend.
  runCrashingChild(
      [&] {
        fake.after_extend = [&] { limitFileSize(size_before + kWritten); };
        (void)w.appendBatch(batch("lost"));
      },
      status);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGXFSZ);
  // The TPM kept the child's extend; model that in the parent's fake TPM.
  auto lost = bulwarkDigests(makeBatchContent(batch("lost")),
                             std::vector{HashAlg::kSha1, HashAlg::kSha256});
  ASSERT_TRUE(lost.has_value());
  fake.apply(15, {{lost->at(0).alg, lost->at(0).value}, {lost->at(1).alg, lost->at(1).value}});

  CelLog crashed = parseFile(path);
  ASSERT_TRUE(crashed.torn.has_value());
  EXPECT_EQ(crashed.torn->offset, size_before);
  EXPECT_EQ(crashed.torn->size, kWritten);
  EXPECT_EQ(fileMode(path), 0600u | S_ISVTX);

  auto r = w.appendBatch(batch("b"));
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(r->recovery.torn_bytes, kWritten);
  EXPECT_TRUE(r->recovery.interrupted);
  CelLog log = parseFile(path);
  EXPECT_FALSE(log.torn.has_value());
  for (HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256}) {
    const Bytes& d = lost->at(alg == HashAlg::kSha1 ? 0 : 1).value;
    EXPECT_EQ(replayWithLostExtend(log, alg, 2, d), fake.value(alg, 15));
  }
}

TEST(CelWriter, ExtendFailureAppendsNothingAndKeepsMark) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  std::string before = testing::readText(path);
  fake.fail_next = true;
  auto r = w.appendBatch(batch("a"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTpm);
  EXPECT_EQ(testing::readText(path), before);
  EXPECT_EQ(fileMode(path), 0600u | S_ISVTX);
  auto next = w.appendBatch(batch("b"));
  ASSERT_TRUE(next.has_value());
  EXPECT_TRUE(next->recovery.interrupted);  // conservative: the failed extend may have landed
  expectReplayMatchesTpm(path, fake);       // here it did not, so replay still matches
}

TEST(CelWriter, RefusesBeforeExtending) {
  struct Case {
    const char* name;
    std::string existing;  // log content before the append
    std::size_t max_log_bytes;
    ErrorCode code;
  };
  const std::string garbage_tail =
      testing::rec("{\"pcr\":15,\"digests\":[],\"content_type\":\"t\",\"content\":{}}") +
      testing::rec("{bad}");
  for (const auto& c :
       {Case{"corrupt_tail", garbage_tail, 64u << 20, ErrorCode::kMalformed},
        Case{"no_separator", "junk without separators", 64u << 20, ErrorCode::kMalformed},
        Case{"log_full", "", 100, ErrorCode::kIo}}) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    FakePcrExtender fake;
    std::string path = dir.file("measure.log");
    std::ofstream(path) << c.existing;
    CelWriterOptions opts;
    opts.path = path;
    opts.max_log_bytes = c.max_log_bytes;
    auto w = CelWriter::create(opts, fake);
    ASSERT_TRUE(w.has_value());
    auto r = w->appendBatch(batch("a"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), c.code) << r.error().toString();
    EXPECT_TRUE(fake.calls.empty());
    EXPECT_EQ(testing::readText(path), c.existing);
  }
}

TEST(CelWriter, OptionsAndContentAreValidated) {
  FakePcrExtender fake;
  struct Case {
    std::uint32_t pcr;
    bool debug;
    std::vector<HashAlg> banks;
    bool ok;
  };
  for (const auto& c :
       {Case{15, false, {HashAlg::kSha256}, true}, Case{16, false, {HashAlg::kSha256}, false},
        Case{23, false, {HashAlg::kSha256}, false}, Case{16, true, {HashAlg::kSha256}, true},
        Case{24, true, {HashAlg::kSha256}, false}, Case{15, false, {}, false},
        Case{15, false, {HashAlg::kSha256, HashAlg::kSha256}, false}}) {
    SCOPED_TRACE(c.pcr);
    CelWriterOptions opts;
    opts.path = "/nonexistent/measure.log";
    opts.pcr = c.pcr;
    opts.allow_resettable_pcr = c.debug;
    opts.banks = c.banks;
    EXPECT_EQ(CelWriter::create(opts, fake).has_value(), c.ok);
  }
  TempDir dir;
  CelWriter w = makeWriter(dir.file("m.log"), fake);
  for (const auto& content : {makeLogStartContent(kBoot), makeRecoveryContent(1, false),
                              nlohmann::json{{"version", 1}, {"event", "batch"}, {"batch", 3}}}) {
    auto r = w.appendContent(content);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(fake.calls.empty());
  EXPECT_FALSE(w.appendBatch({}).has_value());  // an empty batch measures nothing
}

// Writers in separate processes serialize on the flock: no interleaved bytes.
TEST(CelWriter, ConcurrentWritersSerialize) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  ASSERT_TRUE(makeWriter(path, fake).beginBoot(kBoot).has_value());
  constexpr int kChildren = 4, kEach = 15;
  std::vector<pid_t> kids;
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FakePcrExtender own;
      CelWriter w = makeWriter(path, own);
      int failures = 0;
      for (int i = 0; i < kEach; ++i)
        failures += w.appendBatch(batch("c" + std::to_string(c * 100 + i))) ? 0 : 1;
      ::_exit(failures);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CelLog log = parseFile(path);
  EXPECT_FALSE(log.torn.has_value());
  EXPECT_EQ(log.records.size(), static_cast<std::size_t>(1 + kChildren * kEach));
  EXPECT_TRUE(checkBulwarkRecords(log).empty());
  EXPECT_EQ(fileMode(path), 0600u);
}

TEST(CelFile, ReadErrorsAreClear) {
  TempDir dir;
  std::string file = dir.file("log");
  std::ofstream(file) << "\x1e{}\n";
  std::filesystem::create_symlink(file, dir.file("link"));
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);  // must not block the reader
  struct Case {
    std::string path;
    std::size_t max;
    std::optional<ErrorCode> code;
  };
  for (const auto& c : {Case{file, 1024, std::nullopt}, Case{file, 2, ErrorCode::kInvalidArgument},
                        Case{dir.file("missing"), 1024, ErrorCode::kNotFound},
                        Case{dir.file("link"), 1024, ErrorCode::kIo},
                        Case{dir.path(), 1024, ErrorCode::kInvalidArgument},
                        Case{dir.file("fifo"), 1024, ErrorCode::kInvalidArgument}}) {
    SCOPED_TRACE(c.path);
    auto r = readCelFile(c.path, c.max);
    EXPECT_EQ(r.has_value(), !c.code.has_value());
    if (!r && c.code) {
      EXPECT_EQ(r.error().code(), *c.code) << r.error().toString();
    }
  }
}

TEST(CelFile, BootIds) {
  EXPECT_EQ(normalizeBootId("6F1D2C3B-4A59-48E7-B6C5-D4E3F2A1B0C9\n").value_or(""), kBoot);
  EXPECT_EQ(normalizeBootId(kBoot).value_or(""), kBoot);
  EXPECT_FALSE(normalizeBootId("6f1d").has_value());
  EXPECT_FALSE(normalizeBootId(std::string(31, 'a') + "g").has_value());
  auto live = readBootId();
  ASSERT_TRUE(live.has_value()) << live.error().toString();
  EXPECT_EQ(live->size(), 32u);
}

}  // namespace
}  // namespace bulwark::attest
