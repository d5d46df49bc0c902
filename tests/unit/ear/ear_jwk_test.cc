// JWK export/import, RFC 7638 thumbprints, ES256 raw signatures, key files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "attest/core/digest.h"
#include "attest/ear/base64url.h"
#include "attest/ear/es256.h"
#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"

namespace bulwark::attest {
namespace {
using nlohmann::json;

TEST(JwkThumbprint, Rfc7638Section31Example) {
  // RFC 7638 §3.1: the RSA key from RFC 7517 Appendix A.1 and its thumbprint.
  json jwk = {
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
       "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
       "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  auto tp = jwkThumbprint(jwk);
  ASSERT_TRUE(tp.has_value()) << tp.error().toString();
  EXPECT_EQ(*tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkThumbprint, EcUsesSortedRequiredMembersOnly) {
  json jwk = {{"kty", "EC"}, {"crv", "P-256"}, {"x", "AAAA"}, {"y", "BBBB"}, {"use", "sig"}};
  auto tp = jwkThumbprint(jwk);
  ASSERT_TRUE(tp.has_value());
  // RFC 7638 §3.3 canonical form, written out by hand.
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"})";
  EXPECT_EQ(*tp, base64urlEncode(sha256(asBytes(canonical))));
}

TEST(JwkThumbprint, RejectsIncompleteKeys) {
  const json kBad[] = {json::array(), json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "AA"}},
                       json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "AA"}, {"y", 1}},
                       json{{"kty", "XX"}}, json{{"n", "AA"}}};
  for (const auto& j : kBad) EXPECT_FALSE(jwkThumbprint(j).has_value()) << j.dump();
}

TEST(Jwk, ExportImportVerify) {
  auto key = generateP256Key();
  ASSERT_TRUE(key.has_value());
  auto jwk = publicJwk(key->get());
  ASSERT_TRUE(jwk.has_value());
  EXPECT_EQ((*jwk)["kty"], "EC");
  EXPECT_EQ((*jwk)["crv"], "P-256");
  EXPECT_EQ((*jwk)["x"].get<std::string>().size(), 43u);  // 32 bytes, unpadded
  EXPECT_EQ((*jwk)["kid"], *jwkThumbprint(*jwk));
  EXPECT_FALSE(jwk->contains("d"));  // never the private scalar
  auto pub = publicKeyFromJwk(*jwk);
  ASSERT_TRUE(pub.has_value()) << pub.error().toString();
  auto sig = es256Sign(key->get(), asBytes("message"));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(sig->size(), kEs256SignatureSize);
  EXPECT_TRUE(es256Verify(pub->get(), asBytes("message"), *sig));
  EXPECT_FALSE(es256Verify(pub->get(), asBytes("messagE"), *sig));
  EXPECT_EQ(jwks({*jwk})["keys"][0], *jwk);
}

TEST(Jwk, ImportRejectsBadPoints) {
  auto key = generateP256Key();
  ASSERT_TRUE(key.has_value());
  json jwk = *publicJwk(key->get());
  json off_curve = jwk;
  auto y = *base64urlDecode(jwk["y"].get<std::string>());
  y[31] ^= 0x01;
  off_curve["y"] = base64urlEncode(y);
  json short_x = jwk;
  short_x["x"] = base64urlEncode(Bytes(31, 0x11));
  json wrong_crv = jwk;
  wrong_crv["crv"] = "P-384";
  json rsa = {{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}};
  json bad_type = jwk;
  bad_type["kty"] = 7;
  for (const json& j : {off_curve, short_x, wrong_crv, rsa, bad_type}) {
    EXPECT_FALSE(publicKeyFromJwk(j).has_value()) << j.dump();
  }
}

TEST(Es256, SignatureIsRawAndStrict) {
  auto key = generateP256Key();
  auto other = generateP256Key();
  ASSERT_TRUE(key && other);
  auto sig = es256Sign(key->get(), asBytes("payload"));
  ASSERT_TRUE(sig.has_value());
  EXPECT_FALSE(es256Verify(other->get(), asBytes("payload"), *sig));
  for (std::size_t i = 0; i < sig->size(); i += 7) {
    Bytes bad = *sig;
    bad[i] ^= 0x80;
    EXPECT_FALSE(es256Verify(key->get(), asBytes("payload"), bad)) << i;
  }
  Bytes truncated(sig->begin(), sig->end() - 1);
  EXPECT_FALSE(es256Verify(key->get(), asBytes("payload"), truncated));
  EXPECT_FALSE(es256Verify(key->get(), asBytes("payload"), Bytes(64, 0)));  // r = s = 0
  EXPECT_FALSE(es256Verify(nullptr, asBytes("payload"), *sig));
}

class VerifierKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bulwark-key-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(VerifierKeyFile, CreatesWithMode0600ThenReloadsSameKey) {
  std::string path = (dir_ / "verifier.pem").string();
  auto first = loadOrCreateVerifierKey(path);
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  EXPECT_TRUE(first->created);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = loadOrCreateVerifierKey(path);
  ASSERT_TRUE(second.has_value()) << second.error().toString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(*publicJwk(first->key.get()), *publicJwk(second->key.get()));
  // No temp files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(VerifierKeyFile, RefusesUnsafeOrWrongKeys) {
  std::string loose = (dir_ / "loose.pem").string();
  ASSERT_TRUE(loadOrCreateVerifierKey(loose).has_value());
  ::chmod(loose.c_str(), 0644);
  auto r = loadOrCreateVerifierKey(loose);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kPermission);

  std::string rsa_path = (dir_ / "rsa.pem").string();
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  ASSERT_NE(rsa, nullptr);
  auto pem = privateKeyPem(rsa);
  EVP_PKEY_free(rsa);
  ASSERT_TRUE(pem.has_value());
  ASSERT_TRUE(writeFileAtomic(rsa_path, asBytes(*pem), 0600).has_value());
  r = loadOrCreateVerifierKey(rsa_path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);

  std::string junk = (dir_ / "junk.pem").string();
  ASSERT_TRUE(writeFileAtomic(junk, asBytes("not a key"), 0600).has_value());
  r = loadOrCreateVerifierKey(junk);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);

  r = loadOrCreateVerifierKey((dir_ / "missing-dir" / "k.pem").string());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace bulwark::attest
