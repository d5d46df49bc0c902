// The checks a real TPM never lets us reach with a valid signature (wrong magic,
// wrong attest type, SHA-1, odd signature encodings), exercised with TPMS_ATTEST
// values re-signed by software keys. The attest content starts from a real
// swtpm quote (tests/testdata/quote/ecc.msg) so only the tested field differs.
#include <functional>
#include <set>

#include "tests/unit/quote/quote_fixtures.h"

namespace bulwark::attest {
namespace {

using testing::Fixture;
using testing::Pkey;

struct Crafted {
  TPMS_ATTEST attest;
  std::uint16_t scheme;
  HashAlg hash;
  std::function<void(TPMT_SIGNATURE&)> after_sign = nullptr;  // tamper the signature
};

struct CraftCase {
  const char* name;
  bool rsa;  // RSA-2048 key, else P-256
  std::uint16_t scheme;
  HashAlg hash;
  std::function<void(TPMS_ATTEST&)> edit;
  std::function<void(TPMT_SIGNATURE&)> edit_sig;
  std::set<std::string> reasons;  // empty = verified
};

// The real quote's PCR digest was computed with SHA-256; a quote signed with
// another hash must carry H_sig(PCR values), so the crafted attest recomputes it.
void setPcrDigest(TPMS_ATTEST& a, HashAlg hash, const Fixture& f) {
  auto d = computePcrDigest(hash, f.pcrs.selection, f.pcrs.values);
  ASSERT_TRUE(d);
  a.attested.quote.pcrDigest.size = static_cast<std::uint16_t>(d->size());
  std::copy(d->begin(), d->end(), a.attested.quote.pcrDigest.buffer);
}

std::set<std::string> run(const CraftCase& c, const Fixture& f, EVP_PKEY* key,
                          bool* verified = nullptr) {
  TPMS_ATTEST a = testing::parseAttest(f.msg);
  setPcrDigest(a, c.hash, f);
  if (c.edit) c.edit(a);
  Bytes msg = testing::marshal(a);
  TPMT_SIGNATURE sig = testing::softwareSign(key, c.scheme, c.hash, msg);
  if (c.edit_sig) c.edit_sig(sig);
  EVP_PKEY_up_ref(key);
  auto ak = AkKey::fromEvpPkey(EvpPkeyPtr(key));
  EXPECT_TRUE(ak);
  auto verifier = QuoteVerifier::create(*ak);
  auto verdict = verifier->verify(msg, testing::marshal(sig),
                                  {f.nonce, &f.pcrs.selection, f.pcrs.values});
  std::set<std::string> out;
  if (!verdict) {
    out.insert("error:" + std::string(errorCodeName(verdict.error().code())));
    return out;
  }
  if (verified) *verified = verdict->verified();
  for (const auto& r : verdict->rejections()) out.insert(std::string(rejectReasonName(r.reason)));
  return out;
}

const CraftCase kCases[] = {
    {"ecdsa-sha256 baseline", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr, nullptr, {}},
    {"rsassa-sha256 baseline", true, TPM2_ALG_RSASSA, HashAlg::kSha256, nullptr, nullptr, {}},
    {"rsapss-sha256 baseline", true, TPM2_ALG_RSAPSS, HashAlg::kSha256, nullptr, nullptr, {}},
    {"stronger hash sha384 is fine", false, TPM2_ALG_ECDSA, HashAlg::kSha384, nullptr, nullptr, {}},
    {"rsassa-sha512 is fine", true, TPM2_ALG_RSASSA, HashAlg::kSha512, nullptr, nullptr, {}},
    {"wrong magic", false, TPM2_ALG_ECDSA, HashAlg::kSha256,
     [](TPMS_ATTEST& a) { a.magic = 0xff544348; }, nullptr, {"attest-magic"}},
    {"zero magic", true, TPM2_ALG_RSASSA, HashAlg::kSha256, [](TPMS_ATTEST& a) { a.magic = 0; },
     nullptr, {"attest-magic"}},
    {"certify instead of quote", false, TPM2_ALG_ECDSA, HashAlg::kSha256,
     [](TPMS_ATTEST& a) {
       a.type = TPM2_ST_ATTEST_CERTIFY;
       a.attested.certify = TPMS_CERTIFY_INFO{};
     },
     nullptr, {"attest-type"}},
    {"time attest instead of quote", true, TPM2_ALG_RSASSA, HashAlg::kSha256,
     [](TPMS_ATTEST& a) {
       a.type = TPM2_ST_ATTEST_TIME;
       a.attested.time = TPMS_TIME_ATTEST_INFO{};
     },
     nullptr, {"attest-type"}},
    {"sha1 ecdsa downgrade", false, TPM2_ALG_ECDSA, HashAlg::kSha1, nullptr, nullptr,
     {"signature-hash-weak"}},
    {"sha1 rsapss downgrade", true, TPM2_ALG_RSAPSS, HashAlg::kSha1, nullptr, nullptr,
     {"signature-hash-weak"}},
    {"sha1 with sha256 pcr digest", true, TPM2_ALG_RSASSA, HashAlg::kSha1,
     [](TPMS_ATTEST& a) {  // digest not recomputed for sha1: two failures
       auto d = Fixture::load("ecc");
       setPcrDigest(a, HashAlg::kSha256, d);
     },
     nullptr, {"signature-hash-weak", "pcr-digest-mismatch"}},
    {"pcr digest with the wrong hash", false, TPM2_ALG_ECDSA, HashAlg::kSha384,
     [](TPMS_ATTEST& a) { setPcrDigest(a, HashAlg::kSha256, Fixture::load("ecc")); }, nullptr,
     {"pcr-digest-mismatch"}},
    {"ecdsa r of zero length", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.signature.ecdsa.signatureR.size = 0; }, {"signature-invalid"}},
    {"ecdsa r longer than any curve", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.signature.ecdsa.signatureR.size = 67; }, {"signature-invalid"}},
    {"ecdsa r and s swapped", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { std::swap(s.signature.ecdsa.signatureR, s.signature.ecdsa.signatureS); },
     {"signature-invalid"}},
    {"ecdsa hash field relabelled", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.signature.ecdsa.hash = TPM2_ALG_SHA384; },
     {"signature-invalid", "pcr-digest-mismatch"}},
    {"rsassa signature relabelled as rsapss", true, TPM2_ALG_RSASSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.sigAlg = TPM2_ALG_RSAPSS; }, {"signature-invalid"}},
    {"rsa signature one byte short", true, TPM2_ALG_RSASSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.signature.rsassa.sig.size -= 1; }, {"signature-invalid"}},
    {"hmac claimed", true, TPM2_ALG_RSASSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) {
       s.sigAlg = TPM2_ALG_HMAC;
       s.signature.hmac = TPMT_HA{TPM2_ALG_SHA256, {}};
     },
     {"signature-scheme-mismatch"}},
    {"null signature", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.sigAlg = TPM2_ALG_NULL; }, {"signature-scheme-mismatch"}},
    {"ecdsa signature for an rsa key", true, TPM2_ALG_RSASSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) {
       s.sigAlg = TPM2_ALG_ECDSA;
       s.signature.ecdsa = TPMS_SIGNATURE_ECDSA{TPM2_ALG_SHA256, {}, {}};
     },
     {"signature-scheme-mismatch"}},
    {"unknown signature hash", false, TPM2_ALG_ECDSA, HashAlg::kSha256, nullptr,
     [](TPMT_SIGNATURE& s) { s.signature.ecdsa.hash = TPM2_ALG_SM3_256; }, {"error:unsupported"}},
};

TEST(QuoteChecks, CraftedAttestsAreJudgedByEachCheck) {
  Fixture f = Fixture::load("ecc");
  Pkey rsa = testing::makeRsaKey();
  Pkey ec = testing::makeEcKey();
  ASSERT_TRUE(rsa && ec);
  for (const auto& c : kCases) {
    bool verified = false;
    auto got = run(c, f, c.rsa ? rsa.get() : ec.get(), &verified);
    EXPECT_EQ(got, c.reasons) << c.name;
    EXPECT_EQ(verified, c.reasons.empty()) << c.name;
  }
}

TEST(QuoteChecks, PssSaltLengthIsRecovered) {
  // TPMs sign RSAPSS with salt = digest length or the maximum (Part 1 §B.7); both verify.
  Fixture f = Fixture::load("ecc");
  Pkey rsa = testing::makeRsaKey();
  for (int salt : {RSA_PSS_SALTLEN_DIGEST, RSA_PSS_SALTLEN_MAX, 0}) {
    TPMS_ATTEST a = testing::parseAttest(f.msg);
    Bytes msg = testing::marshal(a);
    TPMT_SIGNATURE sig = testing::softwareSign(rsa.get(), TPM2_ALG_RSAPSS, HashAlg::kSha256, msg,
                                               salt);
    EVP_PKEY_up_ref(rsa.get());
    auto verifier = QuoteVerifier::create(*AkKey::fromEvpPkey(EvpPkeyPtr(rsa.get())));
    auto r = verifier->verify(msg, testing::marshal(sig),
                              {f.nonce, &f.pcrs.selection, f.pcrs.values});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->verified()) << "salt " << salt << ": " << r->summary();
  }
}

TEST(QuoteChecks, FixedSchemeAkRefusesOtherHashes) {
  // An AK created with rsassa-sha256 never signs with sha384: a quote that does was
  // not made by that key's TPM policy.
  Fixture f = Fixture::load("ecc");
  Pkey rsa = testing::makeRsaKey();
  TPMS_ATTEST a = testing::parseAttest(f.msg);
  setPcrDigest(a, HashAlg::kSha384, f);
  Bytes msg = testing::marshal(a);
  TPMT_SIGNATURE sig = testing::softwareSign(rsa.get(), TPM2_ALG_RSASSA, HashAlg::kSha384, msg);
  EVP_PKEY_up_ref(rsa.get());
  auto ak = AkKey::fromEvpPkey(EvpPkeyPtr(rsa.get()), TPM2_ALG_RSASSA, TPM2_ALG_SHA256);
  ASSERT_TRUE(ak);
  auto verifier = QuoteVerifier::create(*ak);
  auto r = verifier->verify(msg, testing::marshal(sig),
                            {f.nonce, &f.pcrs.selection, f.pcrs.values});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rejections().size(), 1u) << r->summary();
  EXPECT_TRUE(r->rejectedFor(RejectReason::kSignatureSchemeMismatch));
  EXPECT_NE(r->summary().find("rsassa-sha256"), std::string::npos) << r->summary();
}

TEST(AkKey, RefusesWeakOrUnknownKeys) {
  Pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  Pkey k256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  ASSERT_TRUE(small && ed && k256);
  for (EVP_PKEY* k : {small.get(), ed.get(), k256.get()}) {
    EVP_PKEY_up_ref(k);
    auto ak = AkKey::fromEvpPkey(EvpPkeyPtr(k));
    ASSERT_FALSE(ak.has_value());
    EXPECT_EQ(ak.error().code(), ErrorCode::kUnsupported);
  }
  EXPECT_FALSE(AkKey::fromEvpPkey(EvpPkeyPtr()).has_value());
}

TEST(AkKey, LoadsBothFixtureFormats) {
  struct Case {
    const char* file;
    const char* describe;
  };
  const Case cases[] = {
      {"rsa.ak.pem", "rsa2048"},
      {"rsa.ak.pub", "rsa2048/rsassa-sha256"},
      {"rsapss.ak.pub", "rsa2048/rsapss-sha256"},
      {"ecc.ak.pem", "ecc-p256"},
      {"ecc.ak.pub", "ecc-p256/ecdsa-sha256"},
      {"rsa_sha1.ak.pub", "rsa2048/rsassa-sha1"},
  };
  for (const auto& c : cases) {
    auto ak = AkKey::load(testing::readFixture(c.file));
    ASSERT_TRUE(ak) << c.file << ": " << ak.error().toString();
    EXPECT_EQ(ak->describe(), c.describe);
    AkKey copy = *ak;  // shares the EVP_PKEY
    EXPECT_EQ(copy.pkey(), ak->pkey());
  }
  using namespace std::string_view_literals;
  for (std::string_view bad : {""sv, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"sv,
                               "\x00\x02\x00\x01"sv, "\x00\x00"sv}) {
    EXPECT_FALSE(AkKey::load(asBytes(bad)).has_value()) << toHex(asBytes(bad));
  }
}

}  // namespace
}  // namespace bulwark::attest
