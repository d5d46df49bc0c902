// PCR selection syntax, value coverage, pcrDigest and Bulwark's qualifying data.
#include <gtest/gtest.h>

#include <string>

#include "attest/quote/pcr_selection.h"
#include "attest/quote/qualifying_data.h"
#include "tests/unit/quote/quote_fixtures.h"

namespace bulwark::attest {
namespace {

struct ParseCase {
  const char* spec;
  const char* canonical;  // nullptr = must fail
  std::size_t pcrs = 0;
};

TEST(PcrSelection, ParsesTpm2ToolsSyntax) {
  const ParseCase cases[] = {
      {"sha256:0,1,2", "sha256:0,1,2", 3},
      {"sha256:2,0,1", "sha256:0,1,2", 3},
      {"sha1:0+sha256:0,7", "sha1:0+sha256:0,7", 3},
      {"sha256:0+sha1:0", "sha256:0+sha1:0", 2},
      {"sha384:23", "sha384:23", 1},
      {"sha512:31", "sha512:31", 1},
      {"sha256:all",
       "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23", 24},
      {"", nullptr},
      {"sha256", nullptr},
      {"sha256:", nullptr},
      {"sha256:0,", nullptr},
      {"sha256:,0", nullptr},
      {"sha256:32", nullptr},
      {"sha256:-1", nullptr},
      {"sha256:1x", nullptr},
      {"sha256:0,0", nullptr},
      {"sha256:0+sha256:1", nullptr},
      {"sha256:0+", nullptr},
      {"md5:0", nullptr},
      {"SHA256:0", nullptr},
      {"sha256:99999999999", nullptr},
  };
  for (const auto& c : cases) {
    auto sel = PcrSelection::parse(c.spec);
    if (c.canonical == nullptr) {
      EXPECT_FALSE(sel.has_value()) << "'" << c.spec << "' parsed as " << sel->toString();
      if (!sel) {
        EXPECT_EQ(sel.error().code(), ErrorCode::kInvalidArgument);
      }
      continue;
    }
    ASSERT_TRUE(sel.has_value()) << c.spec << ": " << sel.error().toString();
    EXPECT_EQ(sel->toString(), c.canonical);
    EXPECT_EQ(sel->pcrCount(), c.pcrs) << c.spec;
    auto again = PcrSelection::parse(sel->toString());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *sel);
  }
}

TEST(PcrSelection, OrderMattersForEquality) {
  EXPECT_NE(*PcrSelection::parse("sha1:0+sha256:0"), *PcrSelection::parse("sha256:0+sha1:0"));
  EXPECT_NE(*PcrSelection::parse("sha256:0,1"), *PcrSelection::parse("sha256:0,2"));
  EXPECT_EQ(*PcrSelection::parse("sha256:1,0"), *PcrSelection::parse("sha256:0,1"));
}

TEST(PcrSelection, AtMostSixteenBanksAndNoneEmpty) {
  PcrSelection sel;
  EXPECT_FALSE(sel.add(HashAlg::kSha256, 0).has_value());
  for (HashAlg alg : kAllHashAlgs) EXPECT_TRUE(sel.add(alg, 1).has_value());
  EXPECT_FALSE(sel.add(HashAlg::kSha256, 2).has_value());
  EXPECT_EQ(sel.banks().size(), 4u);
}

PcrValues sampleValues() {
  return {{HashAlg::kSha1, {{0, Bytes(20, 0xa0)}, {3, Bytes(20, 0xa3)}}},
          {HashAlg::kSha256, {{1, Bytes(32, 0xb1)}}}};
}

struct MatchCase {
  const char* name;
  void (*edit)(PcrValues&);
  bool ok;
};

TEST(PcrValues, MustCoverTheSelectionExactly) {
  auto sel = *PcrSelection::parse("sha1:0,3+sha256:1");
  const MatchCase cases[] = {
      {"exact", [](PcrValues&) {}, true},
      {"banks in other order", [](PcrValues& v) { std::swap(v[0], v[1]); }, true},
      {"missing value", [](PcrValues& v) { v[0].values.pop_back(); }, false},
      {"missing bank", [](PcrValues& v) { v.pop_back(); }, false},
      {"extra value", [](PcrValues& v) { v[1].values.push_back({2, Bytes(32, 0)}); }, false},
      {"extra bank", [](PcrValues& v) { v.push_back({HashAlg::kSha384, {{1, Bytes(48, 0)}}}); },
       false},
      {"duplicate value", [](PcrValues& v) { v[1].values.push_back(v[1].values[0]); }, false},
      {"duplicate bank",
       [](PcrValues& v) {
         v.push_back({HashAlg::kSha256, {}});
       },
       false},
      {"short value", [](PcrValues& v) { v[0].values[0].value.resize(19); }, false},
      {"long value", [](PcrValues& v) { v[1].values[0].value.resize(33); }, false},
      {"index out of range", [](PcrValues& v) { v[1].values[0].index = 40; }, false},
  };
  for (const auto& c : cases) {
    PcrValues values = sampleValues();
    c.edit(values);
    auto r = checkPcrValuesMatch(sel, values);
    EXPECT_EQ(r.has_value(), c.ok) << c.name << (r ? "" : ": " + r.error().toString());
  }
}

TEST(PcrValues, SelectPicksTheRequestedSubsetInSelectionOrder) {
  auto sel = *PcrSelection::parse("sha256:1+sha1:3");
  auto picked = selectPcrValues(sampleValues(), sel);
  ASSERT_TRUE(picked);
  ASSERT_EQ(picked->size(), 2u);
  EXPECT_EQ((*picked)[0].alg, HashAlg::kSha256);
  EXPECT_EQ((*picked)[1].values.at(0).index, 3u);
  EXPECT_TRUE(checkPcrValuesMatch(sel, *picked));
  EXPECT_FALSE(selectPcrValues(sampleValues(), *PcrSelection::parse("sha256:1,2")));
  EXPECT_FALSE(selectPcrValues(sampleValues(), *PcrSelection::parse("sha384:1")));
}

TEST(PcrDigest, ConcatenatesInSelectionOrder) {
  // sha256(value(sha1:0) || value(sha1:3) || value(sha256:1)), computed independently.
  auto sel = *PcrSelection::parse("sha1:0,3+sha256:1");
  Bytes concat;
  for (const auto& bank : sampleValues()) {
    for (const auto& v : bank.values) concat.insert(concat.end(), v.value.begin(), v.value.end());
  }
  auto d = computePcrDigest(HashAlg::kSha256, sel, sampleValues());
  ASSERT_TRUE(d);
  EXPECT_EQ(toHex(*d), toHex(sha256(concat)));
  auto swapped = computePcrDigest(HashAlg::kSha256, *PcrSelection::parse("sha256:1+sha1:0,3"),
                                  sampleValues());
  ASSERT_TRUE(swapped);
  EXPECT_NE(*swapped, *d);
  EXPECT_FALSE(computePcrDigest(HashAlg::kSha256, *PcrSelection::parse("sha1:0"), sampleValues()));
}

TEST(PcrDigest, MatchesWhatSwtpmQuoted) {
  for (const char* prefix : {"rsa", "ecc", "ecc_multibank"}) {
    auto f = testing::Fixture::load(prefix);
    TPMS_ATTEST a = testing::parseAttest(f.msg);
    auto d = computePcrDigest(HashAlg::kSha256, f.pcrs.selection, f.pcrs.values);
    ASSERT_TRUE(d);
    EXPECT_EQ(toHex(*d), toHex(ByteView(a.attested.quote.pcrDigest.buffer,
                                        a.attested.quote.pcrDigest.size)))
        << prefix;
  }
}

TEST(QualifyingData, IsSha256OfNonceAndReportHash) {
  // Expected values from Python's hashlib: sha256(nonce + sha256(report)).
  struct Case {
    std::string nonce, report;
    const char* expected;
  };
  const Case cases[] = {
      {"bulwark-nonce-0123456789abcdef01", "{\"report\":\"bytes\"}",
       "b0dfccb5d8898c10b63350a5844d6935cf2047b6f7d30b6c855d82c644823609"},
      {"", "", "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(toHex(qualifyingData(asBytes(c.nonce), asBytes(c.report))), c.expected);
  }
  // Binding: any change to either input changes the result.
  Bytes base = qualifyingData(asBytes("n1"), asBytes("r1"));
  EXPECT_NE(base, qualifyingData(asBytes("n2"), asBytes("r1")));
  EXPECT_NE(base, qualifyingData(asBytes("n1"), asBytes("r2")));
  EXPECT_NE(base, qualifyingData(asBytes("n1r"), asBytes("1")));
}

}  // namespace
}  // namespace bulwark::attest
