// EAR JWT: sign/verify round trip and every rejection path with its reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "attest/ear/base64url.h"
#include "attest/ear/ear.h"
#include "attest/ear/es256.h"
#include "attest/ear/jwk.h"
#include "attest/ear/verifier_key.h"

namespace bulwark::attest {
namespace {
using nlohmann::json;

constexpr std::int64_t kIat = 1'700'000'000;
constexpr std::int64_t kExp = kIat + 600;

Ear sampleEar() {
  Ear ear;
  ear.iat = kIat;
  ear.exp = kExp;
  ear.verifier_id = {"https://bulwark.invalid", "bulwark-verifier 0.1.0"};
  ear.nonce = Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Appraisal a;
  a.status = Tier::kContraindicated;
  a.vector.set(TrustClaim::kInstanceIdentity, ar4si::instance_identity::kTrustworthyInstance);
  a.vector.set(TrustClaim::kHardware, ar4si::hardware::kGenuineHardware);
  a.vector.set(TrustClaim::kExecutables, ar4si::executables::kContraindicatedRuntime);
  a.policy_id = "bulwark:policy/7";
  a.reasons = {{"executables", "unknown-file", "/usr/bin/evil sha256 00ff"},
               {"verifier", "note", "second reason"}};
  ear.submods["node-a"] = a;
  return ear;
}

// Builds a compact JWS from arbitrary header/claims JSON text, signed with key.
std::string rawJws(const std::string& header, const std::string& claims, EVP_PKEY* key) {
  std::string input = base64urlEncode(header) + "." + base64urlEncode(claims);
  auto sig = es256Sign(key, asBytes(input));
  return input + "." + base64urlEncode(*sig);
}

class EarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = generateP256Key();
    ASSERT_TRUE(k.has_value());
    key_ = std::move(*k);
    auto o = generateP256Key();
    ASSERT_TRUE(o.has_value());
    other_ = std::move(*o);
  }
  std::string sign(const Ear& ear) {
    auto t = signEar(ear, key_.get());
    EXPECT_TRUE(t.has_value()) << t.error().toString();
    return t.value_or("");
  }
  std::expected<Ear, EarRejected> verify(std::string_view token, std::int64_t now = kIat + 1) {
    return verifyEar(token, key_.get(), {.now = now, .leeway_seconds = 0});
  }
  void expectRejected(std::string_view token, EarRejection reason, std::int64_t now = kIat + 1) {
    auto r = verify(token, now);
    ASSERT_FALSE(r.has_value()) << "accepted: " << token;
    EXPECT_EQ(r.error().reason, reason) << r.error().toString();
    EXPECT_FALSE(r.error().detail.empty());
  }
  EvpPkeyPtr key_;
  EvpPkeyPtr other_;
};

TEST_F(EarTest, RoundTrip) {
  Ear ear = sampleEar();
  std::string token = sign(ear);
  auto back = verify(token);
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(*back, ear);
}

TEST_F(EarTest, ClaimsLayoutIsTheDraftsJsonSerialisation) {
  std::string token = sign(sampleEar());
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto header = json::parse(base64urlDecode(token.substr(0, dot1)).value());
  EXPECT_EQ(header["alg"], "ES256");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(header["kid"], (*publicJwk(key_.get()))["kid"]);
  auto claims = json::parse(base64urlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)).value());
  EXPECT_EQ(claims["eat_profile"], "tag:github.com,2023:veraison/ear");
  EXPECT_EQ(claims["iat"], kIat);
  EXPECT_EQ(claims["exp"], kExp);
  EXPECT_EQ(claims["ear.verifier-id"]["build"], "bulwark-verifier 0.1.0");
  EXPECT_EQ(claims["eat_nonce"], "AQIDBAUGBwgJCgsM");
  const json& sub = claims["submods"]["node-a"];
  EXPECT_EQ(sub["ear.status"], "contraindicated");
  EXPECT_EQ(sub["ear.trustworthiness-vector"],
            (json{{"instance-identity", 2}, {"hardware", 2}, {"executables", 96}}));
  EXPECT_EQ(sub["ear.appraisal-policy-id"], "bulwark:policy/7");
  EXPECT_EQ(sub["bulwark.reasons"]["executables"][0]["code"], "unknown-file");
  EXPECT_EQ(std::string(token.substr(dot2 + 1)).size(), 86u);  // 64 raw bytes, unpadded
}

TEST_F(EarTest, TamperedPayloadRejected) {
  std::string token = sign(sampleEar());
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  // Re-encode a modified claims-set under the original signature.
  auto claims = json::parse(base64urlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)).value());
  claims["submods"]["node-a"]["ear.status"] = "affirming";
  claims["submods"]["node-a"]["ear.trustworthiness-vector"]["executables"] = 2;
  std::string forged = token.substr(0, dot1 + 1) + base64urlEncode(claims.dump()) +
                       token.substr(dot2);
  expectRejected(forged, EarRejection::kSignature);
}

TEST_F(EarTest, TamperedSignatureRejected) {
  std::string token = sign(sampleEar());
  for (std::size_t back : {1u, 10u, 43u, 80u}) {
    std::string t = token;
    char& c = t[t.size() - back];
    c = c == 'A' ? 'B' : 'A';
    auto r = verify(t);
    ASSERT_FALSE(r.has_value());
    // Flipping the last symbol can leave non-zero pad bits: malformed, else signature.
    EXPECT_TRUE(r.error().reason == EarRejection::kSignature ||
                r.error().reason == EarRejection::kMalformed)
        << r.error().toString();
  }
  // A well-encoded signature of the wrong length (63 bytes, or DER-sized).
  std::string prefix = token.substr(0, token.rfind('.') + 1);
  expectRejected(prefix + base64urlEncode(Bytes(63, 1)), EarRejection::kSignature);
  expectRejected(prefix + base64urlEncode(Bytes(72, 1)), EarRejection::kSignature);
  expectRejected(prefix, EarRejection::kSignature);
}

TEST_F(EarTest, AlgorithmConfusionRejected) {
  std::string claims = earToJson(sampleEar())->dump();
  // alg "none" with an empty signature (RFC 7519 §6 unsecured JWT).
  std::string none = base64urlEncode(std::string(R"({"alg":"none"})")) + "." +
                     base64urlEncode(claims) + ".";
  expectRejected(none, EarRejection::kAlgorithm);
  expectRejected(rawJws(R"({"alg":"HS256"})", claims, key_.get()), EarRejection::kAlgorithm);
  expectRejected(rawJws(R"({"alg":"es256"})", claims, key_.get()), EarRejection::kAlgorithm);
  expectRejected(rawJws(R"({"typ":"JWT"})", claims, key_.get()), EarRejection::kAlgorithm);
  expectRejected(rawJws(R"({"alg":"ES256","crit":["b64"],"b64":false})", claims, key_.get()),
                 EarRejection::kAlgorithm);
  // A correct header without kid, signed by us, is accepted.
  EXPECT_TRUE(verify(rawJws(R"({"alg":"ES256"})", claims, key_.get())).has_value());
}

TEST_F(EarTest, WrongKeyRejected) {
  std::string claims = earToJson(sampleEar())->dump();
  auto other_signed = signEar(sampleEar(), other_.get());
  ASSERT_TRUE(other_signed.has_value());
  expectRejected(*other_signed, EarRejection::kKeyMismatch);
  expectRejected(rawJws(R"({"alg":"ES256"})", claims, other_.get()), EarRejection::kSignature);
}

TEST_F(EarTest, ExpiryUsesInjectedClock) {
  std::string token = sign(sampleEar());
  EXPECT_TRUE(verify(token, kExp - 1).has_value());
  expectRejected(token, EarRejection::kExpired, kExp);  // RFC 7519: now must be before exp
  expectRejected(token, EarRejection::kExpired, kExp + 3600);
  expectRejected(token, EarRejection::kNotYetValid, kIat - 1);
  auto lenient = verifyEar(token, key_.get(), {.now = kIat - 30, .leeway_seconds = 60});
  EXPECT_TRUE(lenient.has_value());
}

TEST_F(EarTest, WrongProfileRejected) {
  Ear ear = sampleEar();
  ear.profile = "tag:example.com,2024:other";
  expectRejected(sign(ear), EarRejection::kProfile);
}

TEST_F(EarTest, SignedButInvalidClaimsRejected) {
  json good = *earToJson(sampleEar());
  auto without = [&](const char* name) {
    json j = good;
    j.erase(name);
    return j.dump();
  };
  json float_exp = good;
  float_exp["exp"] = static_cast<double>(kExp);
  json inconsistent = good;
  inconsistent["submods"]["node-a"]["ear.status"] = "affirming";
  json empty_submods = good;
  empty_submods["submods"] = json::object();
  json bad_nonce = good;
  bad_nonce["eat_nonce"] = "AQID";  // 3 bytes
  const std::string kCases[] = {without("exp"),        without("iat"),
                                without("submods"),    without("ear.verifier-id"),
                                without("eat_profile"), float_exp.dump(),
                                inconsistent.dump(),   empty_submods.dump(),
                                bad_nonce.dump(),      "[1,2,3]"};
  for (const auto& claims : kCases) {
    expectRejected(rawJws(R"({"alg":"ES256"})", claims, key_.get()), EarRejection::kClaims);
  }
  expectRejected(rawJws(R"({"alg":"ES256"})", "{not json", key_.get()), EarRejection::kMalformed);
}

TEST_F(EarTest, MalformedTokensRejected) {
  const std::string kCases[] = {"",        "abc",          "a.b",        "a.b.c.d",
                                "!!.b.c",  "e30.e30.!!",   "e30.e30.e30", "W10.e30.AA",
                                std::string(kMaxEarBytes + 1, 'A')};
  for (const auto& t : kCases) {
    auto r = verify(t);
    ASSERT_FALSE(r.has_value()) << t.substr(0, 40);
    EXPECT_TRUE(r.error().reason == EarRejection::kMalformed ||
                r.error().reason == EarRejection::kAlgorithm)
        << t.substr(0, 40) << " -> " << r.error().toString();
  }
}

TEST_F(EarTest, SignerRefusesInvalidResults) {
  auto refuse = [&](auto mutate) {
    Ear ear = sampleEar();
    mutate(ear);
    auto r = signEar(ear, key_.get());
    EXPECT_FALSE(r.has_value());
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    }
  };
  refuse([](Ear& e) { e.submods.clear(); });
  refuse([](Ear& e) { e.exp = e.iat; });
  refuse([](Ear& e) { e.nonce = Bytes(7, 1); });
  refuse([](Ear& e) { e.nonce = Bytes(65, 1); });
  refuse([](Ear& e) { e.verifier_id.build.clear(); });
  refuse([](Ear& e) { e.submods["node-a"].status = Tier::kAffirming; });
  refuse([](Ear& e) { e.submods["node-a"].vector.set(TrustClaim::kFileSystem, 50); });
  refuse([](Ear& e) { e.submods["node-a"].reasons.push_back({"nonsense", "x", "y"}); });
  // A non-P-256 key cannot sign.
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  ASSERT_NE(rsa, nullptr);
  EXPECT_FALSE(signEar(sampleEar(), rsa).has_value());
  EVP_PKEY_free(rsa);
}

TEST_F(EarTest, AffirmingResultWithoutNonce) {
  Ear ear = sampleEar();
  ear.nonce.reset();
  Appraisal& a = ear.submods["node-a"];
  a.status = Tier::kAffirming;
  a.vector.set(TrustClaim::kExecutables, ar4si::executables::kApprovedRuntime);
  a.reasons.clear();
  auto back = verify(sign(ear));
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(*back, ear);
}

// Signed outside our code: Python `cryptography` (Debian python3-cryptography
// 38) produced the ES256 signature and computed the RFC 7638 kid; the same
// token seeds tests/fuzz/corpus/ear_fuzz/valid_token.
constexpr std::string_view kPythonSignedEar =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjRjeURQN2dFTUtZQjJ1T3BRQnhCV2NqMVRISGt2Mkl4OFFGNVNQ"
    "YVBwTEUiLCJ0eXAiOiJKV1QifQ.eyJlYXRfcHJvZmlsZSI6InRhZzpnaXRodWIuY29tLDIwMjM6dmVyY"
    "Wlzb24vZWFyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDA2MDAsImVhci52ZXJpZmllci1pZ"
    "CI6eyJkZXZlbG9wZXIiOiJodHRwczovL2J1bHdhcmsuaW52YWxpZCIsImJ1aWxkIjoiZnV6ei1zZWVkI"
    "n0sImVhdF9ub25jZSI6IkFRSURCQVVHQndnSkNnc00iLCJzdWJtb2RzIjp7Im5vZGUtYSI6eyJlYXIuc"
    "3RhdHVzIjoid2FybmluZyIsImVhci50cnVzdHdvcnRoaW5lc3MtdmVjdG9yIjp7Imluc3RhbmNlLWlkZ"
    "W50aXR5IjoyLCJjb25maWd1cmF0aW9uIjozMiwiaGFyZHdhcmUiOjJ9LCJlYXIuYXBwcmFpc2FsLXBvb"
    "GljeS1pZCI6ImJ1bHdhcms6cG9saWN5LzEiLCJidWx3YXJrLnJlYXNvbnMiOnsiY29uZmlndXJhdGlvb"
    "iI6W3siY29kZSI6InVuc2FmZS1jb25maWciLCJkZXRhaWwiOiJzZWVkIn1dfX19fQ.zV-t4w5aQZkDRx"
    "-cZbA8v6-nfr3bHOfmpp0_aKPbuqpRbGpTsuFi25Kg0P3a-eOqBMEUKGq4QWGzStpL6ZXf7g";
constexpr std::string_view kPythonJwk =
    R"({"crv":"P-256","kty":"EC","x":"80dFCklNr6cJOZbcXa425cbrwOcsJ3jPPHNpwWjwLnY",)"
    R"("y":"BgAzFFsQQUhQGVxy--XaX7ES8W0cvvLk6hM7EtKWh98"})";

TEST(EarInterop, VerifiesTokenSignedByPythonCryptography) {
  auto key = publicKeyFromJwk(json::parse(kPythonJwk));
  ASSERT_TRUE(key.has_value()) << key.error().toString();
  EXPECT_EQ((*publicJwk(key->get()))["kid"], "4cyDP7gEMKYB2uOpQBxBWcj1THHkv2Ix8QF5SPaPpLE");
  auto ear = verifyEar(kPythonSignedEar, key->get(), {.now = kIat + 100});
  ASSERT_TRUE(ear.has_value()) << ear.error().toString();
  EXPECT_EQ(ear->verifier_id.build, "fuzz-seed");
  const Appraisal& a = ear->submods.at("node-a");
  EXPECT_EQ(a.status, Tier::kWarning);
  EXPECT_EQ(a.vector.get(TrustClaim::kConfiguration), ar4si::configuration::kUnsafeConfig);
  ASSERT_EQ(a.reasons.size(), 1u);
  EXPECT_EQ(a.reasons[0].code, "unsafe-config");
  // One byte of the payload changed: rejected.
  std::string tampered(kPythonSignedEar);
  tampered[200] = tampered[200] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifyEar(tampered, key->get(), {.now = kIat + 100}).has_value());
}

}  // namespace
}  // namespace bulwark::attest
