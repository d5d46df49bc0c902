// CelWriter with batches larger than one record: batch-part records are appended
// without an extend, then the one batch record with the usual protocol; and every
// way a writer can die in between (torn part, after the parts before the extend,
// torn batch record) is repaired by the next writer, which the verifier accepts
// without attesting the orphaned parts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"
#include "attest/cel/cel_writer.h"
#include "tests/unit/cel/cel_test_util.h"

namespace bulwark::attest {
namespace {

using testing::entries;
using testing::FakePcrExtender;
using testing::fileMode;
using testing::FileSizeLimitScope;
using testing::limitFileSize;
using testing::parseFile;
using testing::replayWithLostExtend;
using testing::runCrashingChild;
using testing::subjects;
using testing::TempDir;

const std::string kBoot = "6f1d2c3b4a5948e7b6c5d4e3f2a1b0c9";
constexpr std::size_t kCap = 700;  // canonical bytes per record: ~5 entries

CelWriter makeWriter(const std::string& path, PcrExtender& extender) {
  CelWriterOptions opts;
  opts.path = path;
  opts.banks = {HashAlg::kSha1, HashAlg::kSha256};
  opts.max_batch_content_bytes = kCap;
  auto w = CelWriter::create(opts, extender);
  EXPECT_TRUE(w.has_value()) << w.error().toString();
  return std::move(*w);
}

// The replay of every bank, with `lost` (per bank) extended right before record
// `lost_at` when given, equals the fake TPM.
void expectReplay(const CelLog& log, const FakePcrExtender& fake, std::size_t lost_at = SIZE_MAX,
                  const std::vector<CelDigest>& lost = {}) {
  for (HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256}) {
    ByteView lost_here;
    for (const auto& d : lost) {
      if (d.alg == alg) lost_here = d.value;
    }
    EXPECT_EQ(toHex(replayWithLostExtend(log, alg, lost_at, lost_here)), toHex(fake.value(alg, 15)))
        << hashAlgName(alg);
  }
}

TEST(CelWriterParts, LargeBatchIsPartsThenOneExtend) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  auto many = entries(30, "m");
  auto r = w.appendBatch(many);
  ASSERT_TRUE(r.has_value()) << r.error().toString();
  EXPECT_EQ(fake.calls.size(), 1u);
  EXPECT_GE(r->parts, 3u);
  CelLog log = parseFile(path);
  ASSERT_EQ(log.records.size(), 2 + r->parts);  // log-start, parts, batch
  EXPECT_EQ(log.records.back().offset, r->offset);
  for (std::size_t i = 1; i <= r->parts; ++i) {
    EXPECT_TRUE(log.records[i].isNoAction());
    EXPECT_EQ(log.records[i].content.at("event"), "batch-part");
  }
  EXPECT_TRUE(checkBulwarkRecords(log).empty());
  EXPECT_EQ(subjects(loggedBatchEntries(log)), subjects(many));
  expectReplay(log, fake);
  EXPECT_EQ(fileMode(path), 0600u);
  // A small batch afterwards is one record, no parts.
  auto small = w.appendBatch(entries(1, "s"));
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->parts, 0u);
  EXPECT_EQ(fake.calls.size(), 2u);
}

// Exits the process where a TPM extend would happen: a crash after the parts.
class ExitingExtender final : public PcrExtender {
 public:
  Result<void> extend(std::uint32_t, const std::vector<std::pair<HashAlg, Bytes>>&) override {
    ::_exit(0);
  }
};

struct CrashCase {
  const char* name;
  bool extended;  // the child's extend reached the TPM
  bool torn;      // a partial record is left at the end
  std::function<void(const std::string& path, std::uint64_t size, FakePcrExtender& child)> crash;
};

TEST(CelWriterParts, CrashesAreRepairedAndOrphanedPartsAttestNothing) {
  auto lost = entries(30, "lost");
  auto contents = makeBatchRecords(lost, kCap).value();
  std::string first_part =
      formatCelRecord(15, {}, kBulwarkContentType, canonicalContent(contents[0]).value());
  auto lost_digests =
      bulwarkDigests(contents.back(), std::vector{HashAlg::kSha1, HashAlg::kSha256}).value();
  const CrashCase cases[] = {
      {"torn_part", false, true,
       [&](const std::string& path, std::uint64_t size, FakePcrExtender& child) {
         limitFileSize(size + first_part.size() + 25);
         (void)makeWriter(path, child).appendBatch(lost);
       }},
      {"after_parts_before_extend", false, false,
       [&](const std::string& path, std::uint64_t, FakePcrExtender&) {
         ExitingExtender exiting;
         (void)makeWriter(path, exiting).appendBatch(lost);
       }},
      {"torn_batch_record", true, true,
       [&](const std::string& path, std::uint64_t, FakePcrExtender& child) {
         child.after_extend = [&] { limitFileSize(std::filesystem::file_size(path) + 25); };
         (void)makeWriter(path, child).appendBatch(lost);
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    FakePcrExtender fake;
    std::string path = dir.file("measure.log");
    CelWriter w = makeWriter(path, fake);
    ASSERT_TRUE(w.beginBoot(kBoot).has_value());
    ASSERT_TRUE(w.appendBatch(entries(2, "a")).has_value());
    auto size = std::filesystem::file_size(path);
    int status = 0;
    runCrashingChild([&] { c.crash(path, size, fake); }, status);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "child status " << status;
    if (c.extended)
      fake.apply(15, {{lost_digests[0].alg, lost_digests[0].value},
                      {lost_digests[1].alg, lost_digests[1].value}});
    EXPECT_EQ(fileMode(path), 0600u | S_ISVTX);
    EXPECT_EQ(parseFile(path).torn.has_value(), c.torn);

    auto r = w.appendBatch(entries(2, "b"));
    ASSERT_TRUE(r.has_value()) << r.error().toString();
    EXPECT_TRUE(r->recovery.interrupted);
    EXPECT_EQ(r->recovery.torn_bytes > 0, c.torn);
    CelLog log = parseFile(path);
    EXPECT_FALSE(log.torn.has_value());
    auto findings = checkBulwarkRecords(log);
    EXPECT_TRUE(findings.empty()) << findings.front().reason;
    std::vector<std::string> want = subjects(entries(2, "a"));
    for (auto& s : subjects(entries(2, "b"))) want.push_back(s);
    EXPECT_EQ(subjects(loggedBatchEntries(log)), want) << "orphaned parts attest nothing";
    // The recovery record sits right before the last batch; a lost extend happened there.
    std::size_t recovery_at = log.records.size() - 2;
    EXPECT_EQ(log.records[recovery_at].content.at("event"), "recovery");
    if (c.extended) {
      expectReplay(log, fake, recovery_at, lost_digests);
    } else {
      expectReplay(log, fake);
    }
    EXPECT_EQ(fileMode(path), 0600u);
  }
}

// The parts cannot be written (file size limit, SIGXFSZ ignored): nothing was
// extended, so the log is rolled back and the mark cleared.
TEST(CelWriterParts, PartsWriteFailureRollsBackWithoutExtending) {
  TempDir dir;
  FakePcrExtender fake;
  std::string path = dir.file("measure.log");
  CelWriter w = makeWriter(path, fake);
  ASSERT_TRUE(w.beginBoot(kBoot).has_value());
  std::string before = testing::readText(path);
  auto r = [&] {
    FileSizeLimitScope scope;
    limitFileSize(before.size() + 900);
    return w.appendBatch(entries(30, "m"));
  }();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().toString().find("nothing extended"), std::string::npos);
  EXPECT_TRUE(fake.calls.empty());
  EXPECT_EQ(testing::readText(path), before);
  EXPECT_EQ(fileMode(path), 0600u);
}

}  // namespace
}  // namespace bulwark::attest
