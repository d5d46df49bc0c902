// Multi-record batches (docs/measurement-log.md §3 "Batches larger than one
// record"): planning the records, the verifier's binding of batch-part records to
// the batch that lists them, and which entries a log attests. Every tampering of
// parts or batch is a finding and drops the parts' entries; orphaned parts (a
// crash between parts and batch) attest nothing and are not a finding.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"
#include "tests/unit/cel/cel_test_util.h"

namespace bulwark::attest {
namespace {

using nlohmann::json;
using testing::entries;
using testing::parseText;
using testing::subjects;

const HashAlg kBanks[] = {HashAlg::kSha1, HashAlg::kSha256};

std::string canonical(const json& c) { return canonicalContent(c).value(); }

// The record a writer appends for `content`: a batch extended, the rest no-action.
std::string recordFor(const json& content, std::uint32_t pcr = 15) {
  if (content.at("event") != "batch") {
    return formatCelRecord(pcr, {}, kBulwarkContentType, canonical(content));
  }
  return formatCelRecord(pcr, bulwarkDigests(content, kBanks).value(), kBulwarkContentType,
                         canonical(content));
}

std::string logOf(const std::vector<json>& contents) {
  std::string text = recordFor(makeLogStartContent(std::string(32, '1')));
  for (const auto& c : contents) text += recordFor(c);
  return text;
}

// tests/fuzz/corpus/cel_fuzz/parts.log was written by Python (json.dumps with
// sort_keys, hashlib): an orphaned part, a recovery record, two parts and their
// batch, a single batch. Our canonical hashes must agree with it.
TEST(BulwarkParts, IndependentSampleChecksCleanAndAttestsCommittedParts) {
  // testdataPath is <source>/tests/testdata/cel/<name> (BULWARK_SOURCE_DIR or this tree).
  CelLog log = testing::parseFile(testing::testdataPath("../../fuzz/corpus/cel_fuzz/parts.log"));
  ASSERT_EQ(log.records.size(), 7u);
  auto found = checkBulwarkRecords(log);
  EXPECT_TRUE(found.empty()) << found.front().reason;
  std::vector<std::string> want;
  for (const char* s : {"p0", "p1", "p2", "q0", "q1", "r0", "r1", "s0"})
    want.push_back(std::string("/etc/") + s + ".conf");
  EXPECT_EQ(subjects(loggedBatchEntries(log)), want);
}

TEST(BulwarkParts, SmallBatchIsOneRecordByteIdenticalToTheSingleFormat) {
  auto e = entries(3);
  auto records = makeBatchRecords(e, 900u << 10);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(canonical(records->front()), canonical(makeBatchContent(e)));
  EXPECT_FALSE(records->front().contains("parts"));
}

TEST(BulwarkParts, PlanKeepsOrderFitsTheCapAndListsEveryPart) {
  for (std::size_t cap : {1500u, 4000u, 20000u}) {
    for (int n : {5, 40, 200}) {
      SCOPED_TRACE("cap " + std::to_string(cap) + " entries " + std::to_string(n));
      auto e = entries(n);
      auto records = makeBatchRecords(e, cap);
      ASSERT_TRUE(records.has_value()) << records.error().toString();
      std::vector<BatchEntry> all;
      for (std::size_t i = 0; i < records->size(); ++i) {
        const json& c = (*records)[i];
        bool last = i + 1 == records->size();
        EXPECT_EQ(validateBulwarkContent(c),
                  last ? BulwarkEvent::kBatch : BulwarkEvent::kBatchPart);
        EXPECT_LE(canonical(c).size(), cap);
        for (const auto& x : c.at("batch")) all.push_back({"", x.at("subject"), {}});
      }
      EXPECT_EQ(subjects(all), subjects(e));
      const json& batch = records->back();
      if (records->size() == 1) {
        EXPECT_FALSE(batch.contains("parts"));
        continue;
      }
      ASSERT_EQ(batch.at("parts").size(), records->size() - 1);
      for (std::size_t i = 0; i + 1 < records->size(); ++i) {
        EXPECT_EQ(batch.at("parts")[i], testing::sha256Hex(canonical((*records)[i])));
      }
    }
  }
}

TEST(BulwarkParts, PlanErrors) {
  EXPECT_EQ(makeBatchRecords({}, 1000).error().code(), ErrorCode::kInvalidArgument);
  auto big = makeBatchRecords(entries(3), 120);  // no entry fits next to the overhead
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), ErrorCode::kMalformed);
  // 40 parts of ~3 entries: their hashes alone overflow the batch record.
  auto many_parts = makeBatchRecords(entries(120), 400);
  ASSERT_FALSE(many_parts.has_value());
  EXPECT_NE(many_parts.error().message().find("parts"), std::string::npos);
  std::vector<BatchEntry> bad{{"file", "/etc/\xff", sha256(asBytes("x"))}};
  EXPECT_FALSE(makeBatchRecords(bad, 1000).has_value());
}

// A log with a first single batch and then a three-part batch: clean, replays to
// exactly two extends, and attests every entry in order.
TEST(BulwarkParts, PartsAndBatchCheckCleanAndAttestEveryEntry) {
  auto first = entries(2, "a");
  auto many = entries(30, "m");
  auto records = makeBatchRecords(many, 700);
  ASSERT_TRUE(records.has_value());
  ASSERT_GE(records->size(), 3u);
  std::vector<json> contents{makeBatchContent(first)};
  contents.insert(contents.end(), records->begin(), records->end());
  CelLog log = parseText(logOf(contents));
  EXPECT_TRUE(checkBulwarkRecords(log).empty());
  std::vector<BatchEntry> want = first;
  want.insert(want.end(), many.begin(), many.end());
  auto got = loggedBatchEntries(log);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].subject, want[i].subject);
    EXPECT_EQ(got[i].sha256, want[i].sha256);
  }
  auto batches = attestedBatches(log);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1].record_index, log.records.size() - 1);
  EXPECT_EQ(batches[1].entries.size(), many.size());
  // The TPM saw two extends: H(first batch), H(batch listing the parts).
  Bytes pcr = pcrResetValue(HashAlg::kSha256, 15);
  pcr = pcrExtend(HashAlg::kSha256, pcr, sha256(asBytes(canonical(contents[0]))));
  pcr = pcrExtend(HashAlg::kSha256, pcr, sha256(asBytes(canonical(records->back()))));
  EXPECT_EQ(replayCel(log).banks.at(HashAlg::kSha256)->at(15), pcr);
}

struct TamperCase {
  const char* name;
  std::string log;
  std::string needle;
};

std::vector<TamperCase> tamperCases() {
  auto records = makeBatchRecords(entries(30, "m"), 700).value();  // >= 3 parts + batch
  json p0 = records[0], p1 = records[1], batch = records.back();
  std::vector<json> parts(records.begin(), records.end() - 1);
  auto with = [&](std::vector<json> ps) {
    ps.push_back(batch);
    return logOf(ps);
  };
  json altered = p1;
  altered["batch"][0]["subject"] = "/etc/evil.conf";
  std::vector<json> swapped = parts;
  std::swap(swapped[0], swapped[1]);
  std::vector<json> missing(parts.begin() + 1, parts.end());
  std::vector<json> extra = parts;
  extra.insert(extra.begin(), makeBatchPartContent(entries(1, "x")));
  std::vector<json> replaced = parts;
  replaced[1] = altered;
  // Records with other framing than the writer's.
  std::string prefix = logOf({});
  auto partRecords = [&](std::size_t skip, const std::string& replacement) {
    std::string text;
    for (std::size_t i = 0; i < parts.size(); ++i)
      text += i == skip ? replacement : recordFor(parts[i]);
    return prefix + text + recordFor(batch);
  };
  std::string extended_part =
      formatCelRecord(15, bulwarkDigests(p0, kBanks).value(), kBulwarkContentType, canonical(p0));
  std::string other_pcr = recordFor(p0, 14);
  std::string nv_part = recordFor(p0);
  nv_part.replace(nv_part.find("\"pcr\":15"), 8, "\"nv_index\":15");
  std::string recovery = recordFor(makeRecoveryContent(0, true));
  std::string split = prefix + recordFor(parts[0]) + recovery;
  for (std::size_t i = 1; i < parts.size(); ++i) split += recordFor(parts[i]);
  split += recordFor(batch);
  json upper = batch;
  std::string h = upper["parts"][0];
  upper["parts"][0] = "A" + h.substr(1);
  std::string upper_log = with(parts);
  upper_log.replace(upper_log.find(recordFor(batch)), recordFor(batch).size(), recordFor(upper));
  json empty_list = batch;
  empty_list["parts"] = json::array();
  json single_with_parts_before = makeBatchContent(entries(2, "s"));
  return {
      {"missing_part", with(missing), "lists " + std::to_string(parts.size()) + " parts but"},
      {"extra_part", with(extra), "immediately precede it"},
      {"reordered_parts", with(swapped), "content does not match the listed SHA-256"},
      {"altered_part", with(replaced), "parts[1]"},
      {"part_extends", partRecords(0, extended_part), "batch-part record carries digests"},
      {"part_for_other_pcr", partRecords(0, other_pcr), "is for another PCR"},
      {"part_on_nv_index", partRecords(0, nv_part), "NV index"},
      {"marker_between_parts_and_batch", split, "immediately precede it"},
      {"upper_case_part_hash", upper_log, "parts[0] is not 64 lower-case hex"},
      {"empty_parts_list", logOf({p0, empty_list}), "'parts' is not a non-empty array"},
      {"single_batch_after_parts", logOf({p0, single_with_parts_before}), "lists 0 parts but 1"},
  };
}

TEST(BulwarkParts, EveryTamperingIsAFindingAndAttestsNoPartEntry) {
  for (const auto& c : tamperCases()) {
    SCOPED_TRACE(c.name);
    CelLog log = parseText(c.log);
    auto found = checkBulwarkRecords(log);
    ASSERT_FALSE(found.empty());
    bool matched = false;
    for (const auto& f : found) matched = matched || f.reason.find(c.needle) != std::string::npos;
    EXPECT_TRUE(matched) << found.front().reason;
    // No entry of a part record may count: parts of the tampered batch hold "m*" or
    // the inserted "x0"/"evil" entries; only a batch's own entries can remain.
    for (const auto& e : loggedBatchEntries(log)) {
      bool own = false;
      for (const auto& r : log.records) {
        if (r.content.is_object() && r.content.value("event", "") == "batch" && !r.isNoAction()) {
          for (const auto& x : r.content.at("batch")) own = own || x.at("subject") == e.subject;
        }
      }
      EXPECT_TRUE(own) << e.subject << " came from a part";
    }
  }
}

// A crash between parts and batch leaves parts no batch lists; the next writer's
// recovery record follows them. Legal, no finding, and nothing of them attested.
TEST(BulwarkParts, OrphanedPartsAttestNothingAndAreNoFinding) {
  auto records = makeBatchRecords(entries(30, "m"), 700).value();
  std::vector<json> orphans(records.begin(), records.end() - 1);
  json later = makeBatchContent(entries(2, "later"));
  std::vector<json> crashed = orphans;
  crashed.push_back(makeRecoveryContent(0, true));
  crashed.push_back(later);
  for (const auto& [name, contents] :
       {std::pair{"recovered", crashed}, std::pair{"at_end_of_log", orphans}}) {
    SCOPED_TRACE(name);
    CelLog log = parseText(logOf(contents));
    EXPECT_TRUE(checkBulwarkRecords(log).empty()) << checkBulwarkRecords(log).front().reason;
    auto got = loggedBatchEntries(log);
    if (std::string(name) == "recovered") {
      EXPECT_EQ(subjects(got), subjects(entries(2, "later")));
    } else {
      EXPECT_TRUE(got.empty());
    }
  }
}

// A batch that was not extended attests nothing, with or without parts.
TEST(BulwarkParts, NoActionBatchAttestsNothing) {
  auto records = makeBatchRecords(entries(30, "m"), 700).value();
  std::string text = logOf(std::vector<json>(records.begin(), records.end() - 1)) +
                     formatCelRecord(15, {}, kBulwarkContentType, canonical(records.back()));
  CelLog log = parseText(text);
  EXPECT_FALSE(checkBulwarkRecords(log).empty());
  EXPECT_TRUE(loggedBatchEntries(log).empty());
}

}  // namespace
}  // namespace bulwark::attest
