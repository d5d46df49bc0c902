// Software MakeCredential: round trips through a software ActivateCredential for
// every EK type, integrity failures, input validation, known answers (from
// tests/unit/credential/vectors.py) and the tpm2-tools credential file format.
#include "attest/credential/make_credential.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "attest/credential/secret_share.h"
#include "tests/unit/credential/software_activate.h"

namespace bulwark::attest {
namespace {

using testing::SoftwareEk;

// Hands out exactly the bytes it was given; running dry is an error, so a test
// also proves how much randomness makeCredential consumed.
class FixedRng final : public Rng {
 public:
  explicit FixedRng(Bytes bytes) : bytes_(bytes.begin(), bytes.end()) {}
  Result<void> fill(std::span<std::uint8_t> out) override {
    if (out.size() > bytes_.size()) return fail(ErrorCode::kCrypto, "FixedRng exhausted");
    for (auto& b : out) {
      b = bytes_.front();
      bytes_.pop_front();
    }
    return {};
  }
  std::size_t left() const { return bytes_.size(); }

 private:
  std::deque<std::uint8_t> bytes_;
};

class FailingRng final : public Rng {
 public:
  Result<void> fill(std::span<std::uint8_t>) override {
    return fail(ErrorCode::kCrypto, "entropy source failed");
  }
};

Bytes nameOf(std::string_view tag, HashAlg alg = HashAlg::kSha256) {
  auto id = static_cast<std::uint16_t>(alg);
  Bytes name{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
  Bytes h = digest(alg, asBytes(tag));
  name.insert(name.end(), h.begin(), h.end());
  return name;
}

Bytes hex(std::string_view h) { return fromHex(h).value(); }

const Bytes kSecret(asBytes("bulwark-known-answer").begin(), asBytes("bulwark-known-answer").end());

struct EkCase {
  const char* what;
  SoftwareEk (*make)();
};

const EkCase kEkCases[] = {
    {"RSA-2048 (L-1 template)", [] { return testing::makeRsaEk(2048); }},
    {"ECC P-256 (L-2 template)", [] { return testing::makeEccEk(kEccNistP256); }},
    {"ECC P-384 (swtpm H template)", [] { return testing::makeEccEk(kEccNistP384); }},
};

TEST(MakeCredential, RoundTripsThroughSoftwareActivation) {
  for (const auto& c : kEkCases) {
    SoftwareEk ek = c.make();
    std::size_t max = hashAlgSize(ek.pub.name_alg);
    for (std::size_t len : {std::size_t{1}, std::size_t{20}, max}) {
      Bytes secret(len);
      for (std::size_t i = 0; i < len; ++i) secret[i] = static_cast<std::uint8_t>(0xc0 + i);
      Bytes name = nameOf(c.what);
      auto cred = makeCredential(ek.pub, name, secret);
      ASSERT_TRUE(cred.has_value()) << c.what << ": " << cred.error().toString();
      auto back = testing::softwareActivate(ek, *cred, name);
      ASSERT_TRUE(back.has_value()) << c.what << " len " << len << ": " << back.error().toString();
      EXPECT_EQ(*back, secret) << c.what;
    }
  }
}

TEST(MakeCredential, AnotherAkNameFailsIntegrity) {
  for (const auto& c : kEkCases) {
    SoftwareEk ek = c.make();
    auto cred = makeCredential(ek.pub, nameOf("ak-1"), kSecret);
    ASSERT_TRUE(cred.has_value()) << c.what;
    auto wrong = testing::softwareActivate(ek, *cred, nameOf("ak-2"));
    ASSERT_FALSE(wrong.has_value()) << c.what;
    EXPECT_EQ(wrong.error().message(), "integrity") << c.what;
  }
}

TEST(MakeCredential, AnotherEkCannotActivate) {
  for (const auto& c : kEkCases) {
    SoftwareEk ek = c.make();
    SoftwareEk other = c.make();
    auto cred = makeCredential(ek.pub, nameOf("ak"), kSecret);
    ASSERT_TRUE(cred.has_value()) << c.what;
    // RSA: OAEP decryption fails; ECC: a different Z, so the HMAC does not verify.
    EXPECT_FALSE(testing::softwareActivate(other, *cred, nameOf("ak")).has_value()) << c.what;
  }
}

TEST(MakeCredential, TamperedBlobsFailIntegrity) {
  SoftwareEk ek = testing::makeEccEk(kEccNistP256);
  auto cred = makeCredential(ek.pub, nameOf("ak"), kSecret);
  ASSERT_TRUE(cred.has_value());
  for (std::size_t i = 4; i < cred->id_object.size(); ++i) {  // past both size fields
    Credential bad = *cred;
    bad.id_object[i] ^= 0x01;
    EXPECT_FALSE(testing::softwareActivate(ek, bad, nameOf("ak")).has_value()) << "byte " << i;
  }
}

// Known answers: the ephemeral scalar comes from the Rng, so the whole ECC
// credential is reproducible. Expected bytes from vectors.py (pyca/cryptography).
struct EccKat {
  const char* what;
  std::uint16_t curve;
  const char *x, *y;
  Bytes rng;
  const char *encrypted_secret, *id_object;
};

Bytes iotaFrom1(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i + 1);
  return b;
}

TEST(MakeCredential, EccKnownAnswers) {
  Bytes p256_rejected_first(32, 0xff);  // >= n: rejected, the next draw is used
  Bytes p256_second = iotaFrom1(32);
  p256_rejected_first.insert(p256_rejected_first.end(), p256_second.begin(), p256_second.end());
  const EccKat cases[] = {
      {"P-256", kEccNistP256, "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
       "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299", iotaFrom1(32),
       "00440020515c3d6eb9e396b904d3feca7f54fdcd0cc1e997bf375dca515ad0a6c3b4035f00204536be3a50f31"
       "8fbf9a5475902a221502bef0d57e08c53b2cc0a56f17d9f9354",
       "003800206bfacf024b81a26768969036531f173d9328c92354ae74ba80fe6f8cfbc880f8179d0858e3dd3c7f1"
       "c6938a1d943a21762b2c7bcd8eb"},
      {"P-256 after a rejected scalar", kEccNistP256,
       "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
       "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299", p256_rejected_first,
       "00440020515c3d6eb9e396b904d3feca7f54fdcd0cc1e997bf375dca515ad0a6c3b4035f00204536be3a50f31"
       "8fbf9a5475902a221502bef0d57e08c53b2cc0a56f17d9f9354",
       "003800206bfacf024b81a26768969036531f173d9328c92354ae74ba80fe6f8cfbc880f8179d0858e3dd3c7f1"
       "c6938a1d943a21762b2c7bcd8eb"},
      {"P-384", kEccNistP384,
       "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64def8f0ea9055866064a25451548"
       "0bc13",
       "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1288b231c3ae0d4fe7344fd25332"
       "64720",
       iotaFrom1(48),
       "00640030c76f2283dda95cd49b0ed9e733d2904474e37216f124e13d2c9ab4cf01021c49ad9cabb3d0b97499a"
       "ef2f0ab313fa028003026bc1f83451b5c8962a75caff73588d4400a6296436154fb343c393e91048a6c7bcbadc"
       "83cd8a5f26feae883156f92a1",
       "00480030546c838809396217975b86ee5eef11ad91f213dcc222e9b055e982d2b4094db43ea5d46ee43ee04f7"
       "3e4d4a77252c729e02fb00cbdfbe6719177ce420c8b2daab2b3e1316797"},
  };
  for (const auto& c : cases) {
    TpmPublic ek = testing::eccEkPublic(c.curve, hex(c.x), hex(c.y));
    FixedRng rng(c.rng);
    auto cred = makeCredential(ek, nameOf("ak"), kSecret, rng);
    ASSERT_TRUE(cred.has_value()) << c.what << ": " << cred.error().toString();
    EXPECT_EQ(toHex(cred->encrypted_secret), c.encrypted_secret) << c.what;
    EXPECT_EQ(toHex(cred->id_object), c.id_object) << c.what;
    EXPECT_EQ(rng.left(), 0u) << c.what;
  }
}

TEST(MakeCredential, ProtectKnownAnswers) {
  auto a = protectCredential(HashAlg::kSha256, 128, Bytes(32, 0xa5), nameOf("ak"), kSecret);
  ASSERT_TRUE(a.has_value()) << a.error().toString();
  EXPECT_EQ(toHex(*a),
            "003800202abbd483e26e3f8d384ad7544e34c300dc9a40c40ec8bdb279a00315e7ef522e7785c456eded"
            "69e8e59cf592b03c177bf7f585643080");
  auto b = protectCredential(HashAlg::kSha384, 256, Bytes(48, 0x5a), nameOf("ak"), kSecret);
  ASSERT_TRUE(b.has_value()) << b.error().toString();
  EXPECT_EQ(toHex(*b),
            "00480030af74b150e93469827581b91ba11b6fe67d7c33ef6b03face6d2342146b2331d65e8de02d6e37"
            "c3ced4a8e334167f96dc492722c13bec3b53eca66fb6fd87536d9e35f79462ad");
}

TEST(MakeCredential, RsaSeedComesFromTheRngAndIsOaepWrapped) {
  SoftwareEk ek = testing::makeRsaEk();
  FixedRng rng(Bytes(32, 0xa5));
  auto cred = makeCredential(ek.pub, nameOf("ak"), kSecret, rng);
  ASSERT_TRUE(cred.has_value()) << cred.error().toString();
  EXPECT_EQ(rng.left(), 0u);
  // Same seed → the id_object is the protect() known answer.
  EXPECT_EQ(toHex(cred->id_object),
            "003800202abbd483e26e3f8d384ad7544e34c300dc9a40c40ec8bdb279a00315e7ef522e7785c456eded"
            "69e8e59cf592b03c177bf7f585643080");
  auto seed = testing::recoverSeed(ek, cred->encrypted_secret);
  ASSERT_TRUE(seed.has_value()) << seed.error().toString();
  EXPECT_EQ(*seed, Bytes(32, 0xa5));
  EXPECT_EQ(cred->encrypted_secret.size(), 2u + 256u);
}

TEST(MakeCredential, RngFailureIsAnError) {
  FailingRng rng;
  for (const auto& c : kEkCases) {
    SoftwareEk ek = c.make();
    auto cred = makeCredential(ek.pub, nameOf("ak"), kSecret, rng);
    ASSERT_FALSE(cred.has_value()) << c.what;
    EXPECT_EQ(cred.error().code(), ErrorCode::kCrypto) << c.what;
  }
}

struct InvalidCase {
  const char* what;
  void (*mutate)(TpmPublic& ek, Bytes& name, Bytes& secret);
  ErrorCode code;
};

TEST(MakeCredential, RejectsInvalidInputs) {
  const InvalidCase cases[] = {
      {"empty secret", [](TpmPublic&, Bytes&, Bytes& s) { s.clear(); },
       ErrorCode::kInvalidArgument},
      {"secret longer than the nameAlg digest", [](TpmPublic&, Bytes&, Bytes& s) { s.resize(33); },
       ErrorCode::kInvalidArgument},
      {"empty name", [](TpmPublic&, Bytes& n, Bytes&) { n.clear(); }, ErrorCode::kInvalidArgument},
      {"name of one byte", [](TpmPublic&, Bytes& n, Bytes&) { n.resize(1); },
       ErrorCode::kInvalidArgument},
      {"name with unknown alg", [](TpmPublic&, Bytes& n, Bytes&) { n[1] = 0x12; },
       ErrorCode::kInvalidArgument},
      {"name digest truncated", [](TpmPublic&, Bytes& n, Bytes&) { n.pop_back(); },
       ErrorCode::kInvalidArgument},
      {"name digest too long", [](TpmPublic&, Bytes& n, Bytes&) { n.push_back(0); },
       ErrorCode::kInvalidArgument},
      {"name alg/size mismatch (sha384 id, sha256 digest)",
       [](TpmPublic&, Bytes& n, Bytes&) { n[1] = 0x0c; }, ErrorCode::kInvalidArgument},
      {"EK not restricted",
       [](TpmPublic& e, Bytes&, Bytes&) { e.attributes &= ~object_attr::kRestricted; },
       ErrorCode::kInvalidArgument},
      {"EK not decrypt",
       [](TpmPublic& e, Bytes&, Bytes&) { e.attributes &= ~object_attr::kDecrypt; },
       ErrorCode::kInvalidArgument},
      {"EK also sign", [](TpmPublic& e, Bytes&, Bytes&) { e.attributes |= object_attr::kSign; },
       ErrorCode::kInvalidArgument},
      {"EK without symmetric", [](TpmPublic& e, Bytes&, Bytes&) { e.sym_alg = 0x0010; },
       ErrorCode::kInvalidArgument},
      {"EK AES-64", [](TpmPublic& e, Bytes&, Bytes&) { e.sym_key_bits = 64; },
       ErrorCode::kInvalidArgument},
      {"EK curve P-521", [](TpmPublic& e, Bytes&, Bytes&) { e.curve = 0x0005; },
       ErrorCode::kUnsupported},
      {"EK point off the curve", [](TpmPublic& e, Bytes&, Bytes&) { e.ecc_y.back() ^= 1; },
       ErrorCode::kMalformed},
  };
  SoftwareEk ek = testing::makeEccEk(kEccNistP256);
  for (const auto& c : cases) {
    TpmPublic pub = ek.pub;
    Bytes name = nameOf("ak");
    Bytes secret = kSecret;
    c.mutate(pub, name, secret);
    auto cred = makeCredential(pub, name, secret);
    ASSERT_FALSE(cred.has_value()) << c.what;
    EXPECT_EQ(cred.error().code(), c.code) << c.what << ": " << cred.error().toString();
  }
}

TEST(MakeCredential, SecretMayFillTheSha384Digest) {
  SoftwareEk ek = testing::makeEccEk(kEccNistP384);
  Bytes secret(48, 0x77);
  auto cred = makeCredential(ek.pub, nameOf("ak", HashAlg::kSha384), secret);
  ASSERT_TRUE(cred.has_value()) << cred.error().toString();
  auto back = testing::softwareActivate(ek, *cred, nameOf("ak", HashAlg::kSha384));
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(*back, secret);
  secret.push_back(0);
  EXPECT_FALSE(makeCredential(ek.pub, nameOf("ak"), secret).has_value());
}

TEST(Tpm2ToolsCredentialFile, LayoutAndRoundTrip) {
  Credential c{hex("0004aabbccdd"), hex("0002eeff")};
  Bytes file = toTpm2ToolsCredentialFile(c);
  EXPECT_EQ(toHex(file), "badcc0de000000010004aabbccdd0002eeff");
  auto back = parseTpm2ToolsCredentialFile(file);
  ASSERT_TRUE(back.has_value()) << back.error().toString();
  EXPECT_EQ(back->id_object, c.id_object);
  EXPECT_EQ(back->encrypted_secret, c.encrypted_secret);
}

TEST(Tpm2ToolsCredentialFile, RejectsMalformed) {
  const char* cases[] = {
      "",                                        // empty
      "badcc0de0000",                            // short header
      "badcc0df000000010004aabbccdd0002eeff",    // magic
      "badcc0de000000020004aabbccdd0002eeff",    // version
      "badcc0de000000010004aabbcc",              // truncated id object
      "badcc0de000000010004aabbccdd00",          // truncated secret size
      "badcc0de000000010004aabbccdd0003eeff",    // secret overruns
      "badcc0de000000010004aabbccdd0002eeff00",  // trailing byte
  };
  for (const char* h : cases) {
    auto r = parseTpm2ToolsCredentialFile(hex(h));
    ASSERT_FALSE(r.has_value()) << h;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << h;
  }
}

}  // namespace
}  // namespace bulwark::attest
