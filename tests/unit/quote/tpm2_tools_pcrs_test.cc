// tpm2-tools' serialized PCR file (tpm2_quote -o): real files parse, our writer
// reproduces them byte for byte, and every inconsistency is an error.
#include <functional>

#include "tests/unit/quote/quote_fixtures.h"

namespace bulwark::attest {
namespace {

// Offsets in the format (see attest/quote/tpm2_tools_pcrs.h).
constexpr std::size_t kBank0 = 4;             // first TPMS_PCR_SELECTION
constexpr std::size_t kListCount = 132;       // u32 number of TPML_DIGESTs
constexpr std::size_t kFirstList = 136;       // first TPML_DIGEST.count
constexpr std::size_t kFirstDigest = 140;     // first TPM2B_DIGEST.size

struct FixtureCase {
  const char* prefix;
  const char* selection;
};

TEST(Tpm2ToolsPcrs, ParsesAndReproducesRealFiles) {
  const FixtureCase cases[] = {{"rsa", "sha256:0,1,2"},
                               {"ecc", "sha256:0,1,2"},
                               {"ecc_multibank", "sha1:0,1+sha256:0,1,2,7"}};
  for (const auto& c : cases) {
    Bytes file = testing::readFixture(std::string(c.prefix) + ".pcrs");
    auto pcrs = parseTpm2ToolsPcrs(file);
    ASSERT_TRUE(pcrs) << c.prefix << ": " << pcrs.error().toString();
    EXPECT_EQ(pcrs->selection.toString(), c.selection);
    EXPECT_TRUE(checkPcrValuesMatch(pcrs->selection, pcrs->values));
    auto written = serializeTpm2ToolsPcrs(pcrs->selection, pcrs->values);
    ASSERT_TRUE(written);
    EXPECT_EQ(toHex(*written), toHex(file)) << c.prefix;
  }
}

TEST(Tpm2ToolsPcrs, ValuesAreThoseTheTpmExtended) {
  // Fixture PCRs 0-2 each got one tpm2_pcrevent, PCR 7 none: it is still all zero.
  auto pcrs = parseTpm2ToolsPcrs(testing::readFixture("ecc_multibank.pcrs"));
  ASSERT_TRUE(pcrs);
  const Bytes* pcr7 = findPcrValue(pcrs->values, HashAlg::kSha256, 7);
  ASSERT_NE(pcr7, nullptr);
  EXPECT_EQ(*pcr7, Bytes(32, 0));
  const Bytes* pcr0 = findPcrValue(pcrs->values, HashAlg::kSha1, 0);
  ASSERT_NE(pcr0, nullptr);
  EXPECT_EQ(pcr0->size(), 20u);
  EXPECT_NE(*pcr0, Bytes(20, 0));
}

TEST(Tpm2ToolsPcrs, WritesMoreThanEightValuesAcrossLists) {
  auto sel = *PcrSelection::parse("sha256:0,1,2,3,4,5,6,7,8,9");
  PcrBankValues bank{HashAlg::kSha256, {}};
  for (std::uint32_t i = 0; i < 10; ++i) bank.values.push_back({i, Bytes(32, static_cast<std::uint8_t>(i))});
  PcrValues values{bank};
  auto file = serializeTpm2ToolsPcrs(sel, values);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), 136u + 2 * 532u);
  auto back = parseTpm2ToolsPcrs(*file);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->selection, sel);
  EXPECT_EQ(*findPcrValue(back->values, HashAlg::kSha256, 9), Bytes(32, 9));
}

struct BreakCase {
  const char* name;
  std::function<void(Bytes&)> edit;
  ErrorCode code;
};

TEST(Tpm2ToolsPcrs, RejectsInconsistentFiles) {
  const BreakCase cases[] = {
      {"trailing byte", [](Bytes& b) { b.push_back(0); }, ErrorCode::kMalformed},
      {"no banks", [](Bytes& b) { b[0] = 0; }, ErrorCode::kMalformed},
      {"17 banks", [](Bytes& b) { b[0] = 17; }, ErrorCode::kMalformed},
      {"unknown bank hash", [](Bytes& b) { b[kBank0] = 0x12; }, ErrorCode::kUnsupported},
      {"sizeofSelect 5", [](Bytes& b) { b[kBank0 + 2] = 5; }, ErrorCode::kMalformed},
      {"empty bank", [](Bytes& b) { b[kBank0 + 3] = 0; }, ErrorCode::kMalformed},
      {"extra PCR selected", [](Bytes& b) { b[kBank0 + 3] |= 0x08; }, ErrorCode::kMalformed},
      {"list count 0", [](Bytes& b) { b[kListCount] = 0; }, ErrorCode::kMalformed},
      {"list count 2", [](Bytes& b) { b[kListCount] = 2; }, ErrorCode::kMalformed},
      {"list count huge", [](Bytes& b) { b[kListCount + 3] = 0x80; }, ErrorCode::kMalformed},
      {"digest count 9", [](Bytes& b) { b[kFirstList] = 9; }, ErrorCode::kMalformed},
      {"digest count 2", [](Bytes& b) { b[kFirstList] = 2; }, ErrorCode::kMalformed},
      {"digest size 65", [](Bytes& b) { b[kFirstDigest] = 65; }, ErrorCode::kMalformed},
      {"digest size 20 in sha256 bank", [](Bytes& b) { b[kFirstDigest] = 20; },
       ErrorCode::kMalformed},
      {"selection is sha1", [](Bytes& b) { b[kBank0] = 0x04; }, ErrorCode::kMalformed},
  };
  Bytes good = testing::readFixture("rsa.pcrs");
  ASSERT_TRUE(parseTpm2ToolsPcrs(good));
  for (const auto& c : cases) {
    Bytes b = good;
    c.edit(b);
    auto r = parseTpm2ToolsPcrs(b);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code(), c.code) << c.name << ": " << r.error().toString();
  }
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parseTpm2ToolsPcrs(ByteView(good).first(n)).has_value()) << "truncated to " << n;
  }
}

TEST(Tpm2ToolsPcrs, IgnoresPaddingAndUnusedSlots) {
  // tpm2-tools fwrite()s whole structs: padding and slots past a count are not data.
  Bytes b = testing::readFixture("rsa.pcrs");
  b[kBank0 + 7] = 0xee;                 // padding after pcrSelect[4]
  b[kBank0 + 8 + 5] = 0xee;             // unused second TPMS_PCR_SELECTION
  b[kFirstDigest + 3 * 66 + 10] = 0xee; // unused fourth digest slot
  b[kFirstDigest + 2 + 40] = 0xee;      // first digest's buffer beyond its 32 bytes
  auto r = parseTpm2ToolsPcrs(b);
  ASSERT_TRUE(r) << r.error().toString();
  EXPECT_EQ(r->values, parseTpm2ToolsPcrs(testing::readFixture("rsa.pcrs"))->values);
}

}  // namespace
}  // namespace bulwark::attest
