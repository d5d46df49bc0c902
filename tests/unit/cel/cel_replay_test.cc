#include "attest/cel/cel_replay.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attest/cel/cel_parser.h"
#include "tests/unit/cel/cel_test_util.h"

namespace bulwark::attest {
namespace {

using testing::parseText;
using testing::rec;
using testing::sha1Hex;
using testing::sha256Hex;
using testing::view;

// Same text form as the .expected files: "<bank> pcr<N> 0x<hex>" per line.
std::string format(const CelReplay& replay) {
  std::string out;
  for (const auto& [alg, values] : replay.banks) {
    if (!values) return "error: " + values.error().message();
    for (const auto& [pcr, value] : *values) {
      out += std::string(hashAlgName(alg)) + " pcr" + std::to_string(pcr) + " 0x" + toHex(value) +
             "\n";
    }
  }
  return out;
}

std::string record(unsigned pcr, const std::string& digests) {
  return rec("{\"pcr\":" + std::to_string(pcr) + ",\"digests\":[" + digests +
             "],\"content_type\":\"t\",\"content\":{}}");
}
std::string both(const std::string& word) {
  return "{\"hashAlg\":\"sha1\",\"digest\":\"" + sha1Hex(word) +
         "\"},{\"hashAlg\":\"sha256\",\"digest\":\"" + sha256Hex(word) + "\"}";
}
std::string only256(const std::string& word) {
  return "{\"hashAlg\":\"sha256\",\"digest\":\"" + sha256Hex(word) + "\"}";
}

// Values computed by Python's hashlib (tests/testdata/cel/make_samples.py).
TEST(CelReplay, MatchesIndependentReplayOfSamples) {
  for (const char* name : {"systemd-tpm2-measure", "bulwark-measure"}) {
    SCOPED_TRACE(name);
    std::string log = testing::readText(testing::testdataPath(std::string(name) + ".log"));
    std::string expected =
        testing::readText(testing::testdataPath(std::string(name) + ".expected"));
    ASSERT_FALSE(log.empty());
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(format(replayCel(parseText(log))), expected);
  }
}

TEST(CelReplay, ExtendMathFromZero) {
  CelReplay r = replayCel(parseText(record(15, only256("a")) + record(15, only256("b"))));
  Bytes pcr(32, 0);
  pcr = pcrExtend(HashAlg::kSha256, pcr, sha256(asBytes("a")));
  pcr = pcrExtend(HashAlg::kSha256, pcr, sha256(asBytes("b")));
  ASSERT_EQ(r.banks.size(), 1u);
  ASSERT_TRUE(r.banks.at(HashAlg::kSha256).has_value());
  EXPECT_EQ(r.banks.at(HashAlg::kSha256)->at(15), pcr);
  EXPECT_EQ(r.extend_records, 2u);
}

TEST(CelReplay, MissingBankFailsOnlyThatBank) {
  std::string first = record(15, both("a"));
  CelReplay r = replayCel(parseText(first + record(15, only256("b"))));
  ASSERT_EQ(r.banks.size(), 2u);
  ASSERT_FALSE(r.banks.at(HashAlg::kSha1).has_value());
  EXPECT_NE(r.banks.at(HashAlg::kSha1)
                .error()
                .message()
                .find("record 1 at offset " + std::to_string(first.size()) +
                      " extends pcr15 but has no sha1"),
            std::string::npos);
  EXPECT_TRUE(r.banks.at(HashAlg::kSha256).has_value());
}

TEST(CelReplay, RequestedBankAbsentFromLogIsAnError) {
  CelReplayOptions opts;
  opts.banks = {HashAlg::kSha384};
  CelReplay r = replayCel(parseText(record(15, only256("a"))), opts);
  ASSERT_EQ(r.banks.size(), 1u);
  EXPECT_FALSE(r.banks.at(HashAlg::kSha384).has_value());
}

TEST(CelReplay, UnknownAlgOnlyRecordStillCountsAsExtend) {
  std::string sm3 = "{\"hashAlg\":\"sm3_256\",\"digest\":\"" + sha256Hex("z") + "\"}";
  CelReplay r = replayCel(parseText(record(15, only256("a")) + record(15, sm3)));
  EXPECT_FALSE(r.banks.at(HashAlg::kSha256).has_value());
}

TEST(CelReplay, SkipsNoActionAndNvRecords) {
  std::string nv = rec("{\"nv_index\":5,\"digests\":[" + only256("nv") +
                       "],\"content_type\":\"systemd\",\"content\":{}}");
  CelReplay plain = replayCel(parseText(record(15, only256("a")) + record(15, only256("b"))));
  CelReplay mixed = replayCel(parseText(record(15, "") + record(15, only256("a")) + nv +
                                        record(15, "") + record(15, only256("b"))));
  EXPECT_EQ(format(mixed), format(plain));
  EXPECT_EQ(mixed.no_action_records, 2u);
  EXPECT_EQ(mixed.nv_records, 1u);
  EXPECT_EQ(mixed.extend_records, 2u);
}

TEST(CelReplay, InitialValuesChainLogs) {
  std::string a = record(15, both("a")) + record(11, both("b"));
  std::string b = record(15, both("c"));
  CelReplay whole = replayCel(parseText(a + b));
  CelReplay head = replayCel(parseText(a));
  CelReplayOptions opts;
  for (const auto& [alg, values] : head.banks) {
    ASSERT_TRUE(values.has_value());
    for (const auto& [pcr, v] : *values) opts.initial[{alg, pcr}] = v;
  }
  EXPECT_EQ(format(replayCel(parseText(b), opts)), format(whole));
}

TEST(CelReplay, BadInitialValueIsAnError) {
  CelReplayOptions opts;
  opts.initial[{HashAlg::kSha256, 15}] = Bytes(20, 0);
  CelReplay r = replayCel(parseText(record(15, only256("a"))), opts);
  ASSERT_FALSE(r.banks.at(HashAlg::kSha256).has_value());
  EXPECT_EQ(r.banks.at(HashAlg::kSha256).error().code(), ErrorCode::kInvalidArgument);
}

TEST(CelReplay, ResetValues) {
  struct Case {
    std::uint32_t pcr;
    std::uint8_t fill;
  };
  for (auto c :
       {Case{0, 0}, Case{15, 0}, Case{16, 0}, Case{17, 0xff}, Case{22, 0xff}, Case{23, 0}}) {
    SCOPED_TRACE(c.pcr);
    EXPECT_EQ(pcrResetValue(HashAlg::kSha384, c.pcr), Bytes(48, c.fill));
    CelReplay r = replayCel(parseText(record(c.pcr, only256("a"))));
    EXPECT_EQ(r.banks.at(HashAlg::kSha256)->at(c.pcr),
              pcrExtend(HashAlg::kSha256, Bytes(32, c.fill), sha256(asBytes("a"))));
  }
}

}  // namespace
}  // namespace bulwark::attest
