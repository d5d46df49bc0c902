// KDFa / KDFe known answers. Expected values come from tests/unit/credential/vectors.py,
// a from-the-spec Python implementation (hashlib/hmac) independent of the OpenSSL
// KBKDF/SSKDF providers used by attest/credential/kdf.cc. Two were also confirmed
// with the OpenSSL CLI:
//   openssl kdf -keylen 16 -kdfopt mac:HMAC -kdfopt digest:SHA256
//     -kdfopt hexkey:000102...1f -kdfopt salt:STORAGE -kdfopt hexinfo:<name> KBKDF
//   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:11..11
//     -kdfopt hexinfo:4944454e5449545900<22*32><33*32> SSKDF
#include "attest/credential/kdf.h"

#include <gtest/gtest.h>

#include <string>

namespace bulwark::attest {
namespace {

Bytes iota(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

Bytes akName() {
  Bytes name{0x00, 0x0b};
  Bytes h = sha256(asBytes("ak"));
  name.insert(name.end(), h.begin(), h.end());
  return name;
}

struct KdfaCase {
  const char* what;
  HashAlg alg;
  Bytes key;
  const char* label;
  Bytes u, v;
  std::size_t bits;
  const char* expected;
};

TEST(Kdfa, KnownAnswers) {
  const KdfaCase cases[] = {
      {"sha256 STORAGE name 128", HashAlg::kSha256, iota(32), "STORAGE", akName(), {}, 128,
       "5a02fd7c7454d58831350af38dbbd17d"},
      {"sha256 INTEGRITY 256", HashAlg::kSha256, iota(32), "INTEGRITY", {}, {}, 256,
       "bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e"},
      {"sha384 two blocks, U and V", HashAlg::kSha384, iota(48), "STORAGE", {1, 2}, {3}, 640,
       "f38b2778f6ee33c269598ec0f7127afc47f25ae89ec15fbcee7ce305becaa177b27492e4766e015d928e4ae7"
       "70d3ee5a56ca5c09895ef67b3aa29a24bebcc1aefbd844dc8f413a4b45a1680693713eda"},
      {"sha1 context V only", HashAlg::kSha1, iota(20), "XYZ", {}, akName(), 160,
       "6e908f06d212939accf0eb91d296cf791988f5de"},
  };
  for (const auto& c : cases) {
    auto out = kdfa(c.alg, c.key, c.label, c.u, c.v, c.bits);
    ASSERT_TRUE(out.has_value()) << c.what << ": " << out.error().toString();
    EXPECT_EQ(toHex(*out), c.expected) << c.what;
  }
}

TEST(Kdfa, LabelAndContextMatter) {
  auto base = kdfa(HashAlg::kSha256, iota(32), "STORAGE", akName(), {}, 128);
  auto other_label = kdfa(HashAlg::kSha256, iota(32), "INTEGRITY", akName(), {}, 128);
  Bytes name2 = akName();
  name2.back() ^= 1;
  auto other_ctx = kdfa(HashAlg::kSha256, iota(32), "STORAGE", name2, {}, 128);
  ASSERT_TRUE(base && other_label && other_ctx);
  EXPECT_NE(*base, *other_label);
  EXPECT_NE(*base, *other_ctx);
}

TEST(Kdfa, RejectsBitLengthsThatAreNotWholeBytes) {
  for (std::size_t bits : {std::size_t{0}, std::size_t{7}, std::size_t{129}}) {
    auto out = kdfa(HashAlg::kSha256, iota(32), "STORAGE", {}, {}, bits);
    ASSERT_FALSE(out.has_value()) << bits;
    EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  }
}

struct KdfeCase {
  const char* what;
  HashAlg alg;
  Bytes z, u, v;
  std::size_t bits;
  const char* expected;
};

TEST(Kdfe, KnownAnswers) {
  const KdfeCase cases[] = {
      {"sha256 256", HashAlg::kSha256, Bytes(32, 0x11), Bytes(32, 0x22), Bytes(32, 0x33), 256,
       "349308f14b258cab5f67a14bfd8329ea42365fcdca2f9e7e658bc7504d5d0cb3"},
      {"sha384 384", HashAlg::kSha384, Bytes(48, 0x11), Bytes(48, 0x22), Bytes(48, 0x33), 384,
       "7d7147b0a398348c9b609c86403d4e69a591f729202069dbc3b399dbc22c9dd444d17b52415e1d02c1e55cc4"
       "01266433"},
      {"sha256 three blocks, empty U", HashAlg::kSha256, Bytes(32, 0x44), {}, Bytes(1, 0x55), 520,
       "a16c17fa2665bba19167ae8ad36f6c40dac1ae5c456b1d539eacb65f75412b6a820c51b064ab074f5e4db57f"
       "c0b0fcb2de6c4046d544c4d5a019a28d4225c24b39"},
  };
  for (const auto& c : cases) {
    auto out = kdfe(c.alg, c.z, "IDENTITY", c.u, c.v, c.bits);
    ASSERT_TRUE(out.has_value()) << c.what << ": " << out.error().toString();
    EXPECT_EQ(toHex(*out), c.expected) << c.what;
  }
}

TEST(Kdfe, PartyInfoOrderMatters) {
  auto uv = kdfe(HashAlg::kSha256, Bytes(32, 0x11), "IDENTITY", Bytes(32, 1), Bytes(32, 2), 256);
  auto vu = kdfe(HashAlg::kSha256, Bytes(32, 0x11), "IDENTITY", Bytes(32, 2), Bytes(32, 1), 256);
  ASSERT_TRUE(uv && vu);
  EXPECT_NE(*uv, *vu);
}

}  // namespace
}  // namespace bulwark::attest
