#include "attest/cel/bulwark_content.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attest/cel/cel_parser.h"
#include "tests/unit/cel/cel_test_util.h"

namespace bulwark::attest {
namespace {

using nlohmann::json;
using testing::view;

const HashAlg kBanks[] = {HashAlg::kSha1, HashAlg::kSha256};

std::vector<BatchEntry> entries() {
  return {{"file", "/usr/bin/runc", sha256(asBytes("runc"))},
          {"image", "registry.example/app", sha256(asBytes("img"))}};
}

// A record whose digests are computed from `digest_source` but which carries `content`.
std::string bulwarkRecord(const json& content, const json& digest_source,
                          std::span<const HashAlg> banks, std::uint32_t pcr = 15) {
  auto digests = bulwarkDigests(digest_source, banks);
  EXPECT_TRUE(digests.has_value());
  auto canonical = canonicalContent(content);
  EXPECT_TRUE(canonical.has_value());
  return formatCelRecord(pcr, digests.value_or(std::vector<CelDigest>{}), kBulwarkContentType,
                         canonical.value_or("null"));
}
std::string bulwarkRecord(const json& content) { return bulwarkRecord(content, content, kBanks); }

std::vector<CelFinding> findings(const std::string& text) {
  auto log = parseCel(view(text));
  EXPECT_TRUE(log.has_value()) << log.error().toString();
  return log ? checkBulwarkRecords(*log) : std::vector<CelFinding>{};
}

TEST(BulwarkContent, CanonicalBytesAreExact) {
  auto j = json::parse(
      R"({"z":"a/b\u0001\u007f\n\t\"\\é","B":1,"a":{"y":-3,"x":null},"arr":[true,false,"€"]})");
  auto c = canonicalContent(j);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c,
            "{\"B\":1,\"a\":{\"x\":null,\"y\":-3},\"arr\":[true,false,\"\xe2\x82\xac\"],"
            "\"z\":\"a/b\\u0001\x7f\\n\\t\\\"\\\\\xc3\xa9\"}");
}

TEST(BulwarkContent, CanonicalRejectsFloats) {
  for (const char* text :
       {R"({"a":1.5})", R"({"a":[{"b":1e3}]})", R"({"a":18446744073709551616})"}) {
    SCOPED_TRACE(text);
    auto c = canonicalContent(json::parse(text));
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().code(), ErrorCode::kMalformed);
  }
}

TEST(BulwarkContent, DigestIsHashOfCanonicalBytes) {
  json content = makeBatchContent(entries());
  auto canonical = canonicalContent(content);
  ASSERT_TRUE(canonical.has_value());
  auto digests = bulwarkDigests(content, kBanks);
  ASSERT_TRUE(digests.has_value());
  ASSERT_EQ(digests->size(), 2u);
  EXPECT_EQ((*digests)[0],
            (CelDigest{HashAlg::kSha1, digest(HashAlg::kSha1, asBytes(*canonical))}));
  EXPECT_EQ((*digests)[1], (CelDigest{HashAlg::kSha256, sha256(asBytes(*canonical))}));
}

TEST(BulwarkContent, BuildersValidate) {
  EXPECT_EQ(validateBulwarkContent(makeBatchContent(entries())), BulwarkEvent::kBatch);
  EXPECT_EQ(validateBulwarkContent(makeLogStartContent(std::string(32, 'a'))),
            BulwarkEvent::kLogStart);
  EXPECT_EQ(validateBulwarkContent(makeRecoveryContent(12, true)), BulwarkEvent::kRecovery);
}

// The Python-made sample (independent canonicalization) must check clean, and our
// canonical bytes must equal the content bytes Python wrote.
TEST(BulwarkContent, IndependentSampleChecksClean) {
  std::string text = testing::readText(testing::testdataPath("bulwark-measure.log"));
  auto log = parseCel(view(text));
  ASSERT_TRUE(log.has_value());
  ASSERT_EQ(log->records.size(), 3u);
  EXPECT_TRUE(checkBulwarkRecords(*log).empty());
  for (const auto& r : log->records) {
    auto canonical = canonicalContent(r.content);
    ASSERT_TRUE(canonical.has_value());
    std::string raw = text.substr(r.offset, r.size);
    EXPECT_NE(raw.find(",\"content\":" + *canonical + "}\n"), std::string::npos);
  }
}

TEST(BulwarkContent, OtherContentTypesAreIgnored) {
  std::string text = testing::readText(testing::testdataPath("systemd-tpm2-measure.log"));
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(findings(text).empty());
}

struct FindingCase {
  const char* name;
  std::string log;
  std::string needle;
};

std::vector<FindingCase> findingCases() {
  json batch = makeBatchContent(entries());
  json start = makeLogStartContent(std::string(32, '1'));
  json other = batch;
  other["batch"][0]["subject"] = "/usr/bin/evil";
  json v2 = batch;
  v2["version"] = 2;
  json unknown = batch;
  unknown["event"] = "reboot";
  json upper = batch;
  upper["batch"][0]["sha256"] = "AB" + std::string(62, 'a');
  json empty_batch = batch;
  empty_batch["batch"] = json::array();
  json no_kind = batch;
  no_kind["batch"][1]["kind"] = "";
  json floaty = batch;
  floaty["load"] = 0.5;
  const HashAlg sha256_only[] = {HashAlg::kSha256};
  std::string sm3 = bulwarkRecord(batch);
  sm3.replace(sm3.find("\"sha1\""), 6, "\"sm3_256\"");
  std::string start_rec =
      formatCelRecord(15, {}, kBulwarkContentType, canonicalContent(start).value());
  std::string nv = bulwarkRecord(batch);
  nv.replace(nv.find("\"pcr\":15"), 8, "\"nv_index\":15");
  return {
      {"content_changed_after_hashing", bulwarkRecord(other, batch, kBanks),
       "sha1 digest does not match"},
      {"sha256_mismatch_only_bank", bulwarkRecord(other, batch, sha256_only),
       "sha256 digest does not match"},
      {"batch_not_extended",
       formatCelRecord(15, {}, kBulwarkContentType, canonicalContent(batch).value()), "no digests"},
      {"marker_with_digests", bulwarkRecord(start), "must not extend"},
      {"log_start_not_first", bulwarkRecord(batch) + start_rec, "log-start record is not first"},
      {"version_2", bulwarkRecord(v2), "content version 2"},
      {"unknown_event", bulwarkRecord(unknown), "unknown event"},
      {"upper_case_hex", bulwarkRecord(upper), "lower-case hex"},
      {"empty_batch", bulwarkRecord(empty_batch), "'batch'"},
      {"empty_kind", bulwarkRecord(no_kind), "batch[1]: 'kind'"},
      {"float_in_content",
       testing::rec("{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"" +
                    std::string(64, '0') +
                    "\"}],\"content_type\":\"bulwark\",\"content\":" + floaty.dump() + "}"),
       "floating-point"},
      {"unsupported_alg", sm3, "unsupported hashAlg \"sm3_256\""},
      {"nv_index_batch", nv, "NV index"},
      {"content_not_object",
       testing::rec("{\"pcr\":15,\"digests\":[],\"content_type\":\"bulwark\",\"content\":[]}"),
       "not an object"},
  };
}

TEST(BulwarkContent, FindingsTable) {
  for (const auto& c : findingCases()) {
    SCOPED_TRACE(c.name);
    auto found = findings(c.log);
    ASSERT_FALSE(found.empty());
    bool matched = false;
    for (const auto& f : found) matched = matched || f.reason.find(c.needle) != std::string::npos;
    EXPECT_TRUE(matched) << found.front().reason;
    EXPECT_NE(found.front().reason.find("at offset"), std::string::npos);
  }
}

TEST(BulwarkContent, ConsistentLogHasNoFindings) {
  json start = makeLogStartContent(std::string(32, '1'));
  std::string log = formatCelRecord(15, {}, kBulwarkContentType, canonicalContent(start).value()) +
                    bulwarkRecord(makeBatchContent(entries())) +
                    formatCelRecord(15, {}, kBulwarkContentType,
                                    canonicalContent(makeRecoveryContent(0, true)).value());
  EXPECT_TRUE(findings(log).empty());
}

}  // namespace
}  // namespace bulwark::attest
