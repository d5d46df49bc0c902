#include <gtest/gtest.h>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"

namespace bulwark {
namespace {

TEST(Hex, RoundTrip) {
  Bytes b{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(toHex(b), "0001abff");
  auto back = fromHex("0x0001ABff");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, b);
}

TEST(Hex, RejectsOddAndNonHex) {
  auto odd = fromHex("abc");
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().code(), ErrorCode::kMalformed);
  auto bad = fromHex("zz");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("offset 0"), std::string::npos);
}

TEST(Digest, KnownAnswers) {
  // FIPS 180-2 "abc" vectors.
  EXPECT_EQ(toHex(digest(HashAlg::kSha1, asBytes("abc"))),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(toHex(sha256(asBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Hasher h(HashAlg::kSha256);
  h.update(asBytes("a")).update(asBytes("bc"));
  EXPECT_EQ(toHex(h.finish()), toHex(sha256(asBytes("abc"))));
}

TEST(Digest, PcrExtendFromZero) {
  Bytes zero(32, 0);
  Bytes d = sha256(asBytes("abc"));
  Bytes expect_input = zero;
  expect_input.insert(expect_input.end(), d.begin(), d.end());
  EXPECT_EQ(pcrExtend(HashAlg::kSha256, zero, d), sha256(expect_input));
}

TEST(Digest, NamesAndIds) {
  EXPECT_EQ(hashAlgFromName("sha384"), HashAlg::kSha384);
  EXPECT_EQ(hashAlgFromId(0x000B), HashAlg::kSha256);
  EXPECT_FALSE(hashAlgFromId(0x0012).has_value());
  EXPECT_FALSE(hashAlgFromName("md5").has_value());
}

TEST(Error, ContextAndString) {
  Error e(ErrorCode::kTpm, "TPM_RC_VALUE", "Esys_Quote");
  e.within("quote");
  EXPECT_EQ(e.toString(), "tpm: quote: Esys_Quote: TPM_RC_VALUE");
}

TEST(Files, AtomicWriteModeAndRead) {
  std::string path = ::testing::TempDir() + "/bulwark_core_test.bin";
  Bytes data{1, 2, 3};
  ASSERT_TRUE(writeFileAtomic(path, data, 0600).has_value());
  auto back = readFile(path);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, data);
  auto too_big = readFile(path, 2);
  ASSERT_FALSE(too_big.has_value());
  auto missing = readFile(path + ".absent");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace bulwark
