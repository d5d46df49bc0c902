#include "attest/cel/cel_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/cel/cel_test_util.h"

namespace bulwark::attest {
namespace {

using testing::rec;
using testing::sha1Hex;
using testing::sha256Hex;
using testing::view;

std::string digestsJson(const std::string& inner) { return "\"digests\":[" + inner + "]"; }
std::string sha256Entry(const std::string& hex) {
  return "{\"hashAlg\":\"sha256\",\"digest\":\"" + hex + "\"}";
}

const std::string kD = sha256Hex("x");
const std::string kGood = rec("{\"pcr\":11," + digestsJson(sha256Entry(kD)) +
                              ",\"content_type\":\"systemd\",\"content\":{\"string\":\"x\"}}");
std::string withPcr(const std::string& pcr_json) {
  return rec("{\"pcr\":" + pcr_json + "," + digestsJson(sha256Entry(kD)) +
             ",\"content_type\":\"t\",\"content\":{}}");
}
std::string withDigests(const std::string& inner) {
  return rec("{\"pcr\":15," + digestsJson(inner) + ",\"content_type\":\"t\",\"content\":{}}");
}
std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

enum class Expect { kOk, kTorn, kError };

struct Case {
  const char* name;
  std::string input;
  Expect expect;
  std::size_t records = 0;  // complete records (kOk / kTorn)
  std::string needle;       // substring of the error message or torn reason
};

std::vector<Case> cases() {
  const std::size_t g = kGood.size();
  return {
      {"empty", "", Expect::kOk, 0, ""},
      {"one", kGood, Expect::kOk, 1, ""},
      {"three", kGood + kGood + kGood, Expect::kOk, 3, ""},
      {"recnum",
       rec("{\"recnum\":0,\"pcr\":11," + digestsJson(sha256Entry(kD)) +
           ",\"content_type\":\"cel\",\"content\":{}}"),
       Expect::kOk, 1, ""},
      {"nv_index",
       rec("{\"nv_index\":25165824," + digestsJson(sha256Entry(kD)) +
           ",\"content_type\":\"systemd\",\"content\":{}}"),
       Expect::kOk, 1, ""},
      {"whitespace_and_crlf",
       "\x1e {\"pcr\":1, " + digestsJson("") + ",\"content_type\":\"t\",\"content\":null} \r\n",
       Expect::kOk, 1, ""},
      {"unknown_alg_kept_aside",
       withDigests(sha256Entry(kD) + ",{\"hashAlg\":\"sm3_256\",\"digest\":\"" + kD + "\"}"),
       Expect::kOk, 1, ""},
      {"torn_mid_json", kGood + "\x1e{\"pcr\":11,\"dig", Expect::kTorn, 1, "truncated"},
      {"torn_separator_only", kGood + "\x1e", Expect::kTorn, 1, "truncated"},
      {"torn_no_newline", kGood + kGood.substr(0, g - 1), Expect::kTorn, 1, "closing newline"},
      {"torn_in_string", kGood + kGood.substr(0, 40), Expect::kTorn, 1, "truncated"},
      {"corrupt_middle", kGood + rec("{garbage}") + kGood, Expect::kError, 0,
       "record 1 at offset " + std::to_string(g)},
      {"truncated_middle", kGood + "\x1e{\"pcr\":1" + kGood, Expect::kError, 0,
       "record 1 at offset"},
      {"empty_middle", kGood + "\x1e" + kGood, Expect::kError, 0, "record 1"},
      {"final_complete_but_invalid", kGood + rec("{\"pcr\":}"), Expect::kError, 0, "record 1"},
      {"final_cut_json_then_newline", kGood + "\x1e{\"pcr\":1\n", Expect::kError, 0, "record 1"},
      {"final_damage_before_end", kGood + "\x1e{\"pcr\" 11, \"digests\"", Expect::kError, 0,
       "record 1"},
      {"no_leading_separator", kGood.substr(1), Expect::kError, 0, "offset 0"},
      {"leading_garbage", "xx" + kGood, Expect::kError, 0, "offset 0"},
      {"embedded_nul", kGood + rec(std::string("{\"pcr\":1\0}", 10)) + kGood, Expect::kError, 0,
       "record 1"},
      {"invalid_utf8",
       rec("{\"pcr\":1," + digestsJson("") + ",\"content_type\":\"\xff\",\"content\":1}"),
       Expect::kError, 0, "invalid JSON"},
      {"not_object", rec("[1,2]"), Expect::kError, 0, "not a JSON object"},
      {"duplicate_member",
       rec("{\"pcr\":11,\"pcr\":12," + digestsJson("") + ",\"content_type\":\"t\",\"content\":{}}"),
       Expect::kError, 0, "duplicate member"},
      {"duplicate_member_nested",
       rec("{\"pcr\":11," + digestsJson("") +
           ",\"content_type\":\"t\",\"content\":{\"a\":1,\"a\":2}}"),
       Expect::kError, 0, "duplicate member"},
      {"too_deep",
       rec("{\"pcr\":1," + digestsJson("") + ",\"content_type\":\"t\",\"content\":" + nested(40) +
           "}"),
       Expect::kError, 0, "nested deeper"},
      {"pcr_24", withPcr("24"), Expect::kError, 0, "out of range"},
      {"pcr_negative", withPcr("-1"), Expect::kError, 0, "unsigned"},
      {"pcr_float", withPcr("1.0"), Expect::kError, 0, "unsigned"},
      {"pcr_string", withPcr("\"11\""), Expect::kError, 0, "unsigned"},
      {"pcr_and_nv",
       rec("{\"pcr\":1,\"nv_index\":2," + digestsJson("") +
           ",\"content_type\":\"t\",\"content\":{}}"),
       Expect::kError, 0, "exactly one"},
      {"no_target", rec("{" + digestsJson("") + ",\"content_type\":\"t\",\"content\":{}}"),
       Expect::kError, 0, "exactly one"},
      {"recnum_negative",
       rec("{\"recnum\":-3,\"pcr\":1," + digestsJson("") +
           ",\"content_type\":\"t\",\"content\":{}}"),
       Expect::kError, 0, "recnum"},
      {"digests_missing", rec("{\"pcr\":1,\"content_type\":\"t\",\"content\":{}}"), Expect::kError,
       0, "'digests'"},
      {"digests_object", rec("{\"pcr\":1,\"digests\":{},\"content_type\":\"t\",\"content\":{}}"),
       Expect::kError, 0, "'digests'"},
      {"digest_wrong_length", withDigests(sha256Entry(sha1Hex("x"))), Expect::kError, 0,
       "has 20 bytes, expected 32"},
      {"digest_not_hex", withDigests(sha256Entry(std::string(64, 'g'))), Expect::kError, 0,
       "not a hex"},
      {"digest_0x_prefix", withDigests(sha256Entry("0x" + kD.substr(2))), Expect::kError, 0,
       "not a hex"},
      {"digest_odd", withDigests(sha256Entry(kD.substr(1))), Expect::kError, 0, "odd"},
      {"digest_number", withDigests("{\"hashAlg\":\"sha256\",\"digest\":5}"), Expect::kError, 0,
       "not a string"},
      {"hashalg_missing", withDigests("{\"digest\":\"" + kD + "\"}"), Expect::kError, 0, "hashAlg"},
      {"hashalg_duplicate", withDigests(sha256Entry(kD) + "," + sha256Entry(kD)), Expect::kError, 0,
       "twice"},
      {"unknown_alg_bad_hex", withDigests("{\"hashAlg\":\"sm3_256\",\"digest\":\"zz\"}"),
       Expect::kError, 0, "not a hex"},
      {"content_type_missing", rec("{\"pcr\":1," + digestsJson("") + ",\"content\":{}}"),
       Expect::kError, 0, "content_type"},
      {"content_type_number",
       rec("{\"pcr\":1," + digestsJson("") + ",\"content_type\":7,\"content\":{}}"), Expect::kError,
       0, "content_type"},
      {"content_missing", rec("{\"pcr\":1," + digestsJson("") + ",\"content_type\":\"t\"}"),
       Expect::kError, 0, "'content'"},
  };
}

TEST(CelParser, Table) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    auto log = parseCel(view(c.input));
    if (c.expect == Expect::kError) {
      ASSERT_FALSE(log.has_value());
      EXPECT_EQ(log.error().code(), ErrorCode::kMalformed);
      EXPECT_NE(log.error().message().find(c.needle), std::string::npos) << log.error().toString();
      continue;
    }
    ASSERT_TRUE(log.has_value()) << log.error().toString();
    EXPECT_EQ(log->records.size(), c.records);
    EXPECT_EQ(log->torn.has_value(), c.expect == Expect::kTorn);
    if (log->torn) {
      EXPECT_EQ(log->torn->offset, log->complete_bytes);
      EXPECT_EQ(log->torn->offset + log->torn->size, c.input.size());
      EXPECT_NE(log->torn->reason.find(c.needle), std::string::npos) << log->torn->reason;
    } else {
      EXPECT_EQ(log->complete_bytes, c.input.size());
    }
  }
}

TEST(CelParser, RecordFieldsAndOffsets) {
  std::string input =
      kGood + rec("{\"recnum\":7,\"nv_index\":3," +
                  digestsJson(sha256Entry(kD) + ",{\"hashAlg\":\"sm3_256\",\"digest\":\"00\"}") +
                  ",\"content_type\":\"x\",\"content\":[1]}");
  auto log = parseCel(view(input));
  ASSERT_TRUE(log.has_value()) << log.error().toString();
  ASSERT_EQ(log->records.size(), 2u);
  const auto& a = log->records[0];
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(a.size, kGood.size());
  EXPECT_EQ(a.pcr, 11u);
  EXPECT_FALSE(a.nv_index.has_value());
  EXPECT_FALSE(a.recnum.has_value());
  ASSERT_NE(a.digestFor(HashAlg::kSha256), nullptr);
  EXPECT_EQ(toHex(*a.digestFor(HashAlg::kSha256)), kD);
  EXPECT_EQ(a.digestFor(HashAlg::kSha1), nullptr);
  EXPECT_EQ(a.content_type, "systemd");
  EXPECT_EQ(a.content.at("string"), "x");
  const auto& b = log->records[1];
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(b.offset, kGood.size());
  EXPECT_EQ(b.recnum, 7u);
  EXPECT_EQ(b.nv_index, 3u);
  EXPECT_FALSE(b.pcr.has_value());
  EXPECT_EQ(b.unknown_algs, std::vector<std::string>{"sm3_256"});
  EXPECT_FALSE(b.isNoAction());
}

TEST(CelParser, NoActionMeansEmptyDigestList) {
  auto empty = parseCel(view(withDigests("")));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->records[0].isNoAction());
  auto only_unknown =
      parseCel(view(withDigests("{\"hashAlg\":\"sm3_256\",\"digest\":\"" + kD + "\"}")));
  ASSERT_TRUE(only_unknown.has_value());
  EXPECT_FALSE(only_unknown->records[0].isNoAction());
}

TEST(CelParser, LimitsAreEnforced) {
  CelParseOptions small;
  small.max_record_bytes = 64;
  auto big = parseCel(view(kGood), small);
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error().message().find("exceeds 64 bytes"), std::string::npos);
  CelParseOptions few;
  few.max_records = 2;
  auto many = parseCel(view(kGood + kGood + kGood), few);
  ASSERT_FALSE(many.has_value());
  EXPECT_NE(many.error().message().find("record 2"), std::string::npos);
}

// Cutting a valid log anywhere must give the records before the cut and, unless the
// cut falls on a record boundary, a torn tail: never an error, never a wrong record.
TEST(CelParser, EveryTruncationIsCompletePrefixOrTorn) {
  std::string log = testing::readText(testing::testdataPath("bulwark-measure.log"));
  ASSERT_FALSE(log.empty());
  auto full = parseCel(view(log));
  ASSERT_TRUE(full.has_value());
  std::vector<std::size_t> ends;
  for (const auto& r : full->records) ends.push_back(r.offset + r.size);
  for (std::size_t cut = 0; cut <= log.size(); ++cut) {
    auto part = parseCel(view(log.substr(0, cut)));
    ASSERT_TRUE(part.has_value()) << "cut " << cut << ": " << part.error().toString();
    std::size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= cut) ++complete;
    EXPECT_EQ(part->records.size(), complete) << "cut " << cut;
    bool boundary = cut == 0 || (complete > 0 && ends[complete - 1] == cut);
    EXPECT_EQ(part->torn.has_value(), !boundary) << "cut " << cut;
  }
}

TEST(CelParser, SystemdSample) {
  std::string log = testing::readText(testing::testdataPath("systemd-tpm2-measure.log"));
  auto parsed = parseCel(view(log));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().toString();
  ASSERT_EQ(parsed->records.size(), 5u);
  const auto& first = parsed->records[0];
  EXPECT_EQ(first.pcr, 11u);
  EXPECT_EQ(first.content_type, "systemd");
  EXPECT_EQ(first.content.at("string"), "enter-initrd");
  EXPECT_EQ(first.content.at("eventType"), "phase");
  // systemd extends H(word) of the literal word.
  ASSERT_NE(first.digestFor(HashAlg::kSha256), nullptr);
  EXPECT_EQ(toHex(*first.digestFor(HashAlg::kSha256)), sha256Hex("enter-initrd"));
  EXPECT_EQ(toHex(*first.digestFor(HashAlg::kSha1)), sha1Hex("enter-initrd"));
}

}  // namespace
}  // namespace bulwark::attest
