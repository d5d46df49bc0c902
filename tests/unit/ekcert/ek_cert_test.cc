// EK certificate validation: minted chains for every verdict (cert_factory.h),
// encodings and malformed input, and the real swtpm_localca certificates in
// tests/testdata/ekcert.
#include "attest/ekcert/ek_cert.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/unit/credential/software_ek.h"
#include "tests/unit/ekcert/cert_factory.h"

namespace bulwark::attest {
namespace {

using namespace testing;  // NOLINT: test helpers
using Clock = std::chrono::system_clock;

Clock::time_point at(std::time_t t) { return Clock::from_time_t(t); }

std::vector<std::string> codes(const EkCertVerdict& v) {
  std::vector<std::string> out;
  for (const auto& r : v.reasons) out.push_back(r.code);
  return out;
}

// One vendor PKI: root (trusted) -> intermediate (untrusted pool) -> EK certs.
struct Pki {
  Ca root = makeRoot("Vendor EK Root");
  Ca issuer = makeIntermediate("Vendor EK Issuing CA", root);

  CaStore store() const {
    CaStore s;
    EXPECT_TRUE(s.addTrusted(pem(root.cert.get())).has_value());
    EXPECT_TRUE(s.addIntermediates(der(issuer.cert.get())).has_value());
    return s;
  }
  CertPtr ekCert(EVP_PKEY* key, MintSpec spec = {}) const {
    spec.issuer = &issuer;
    spec.key = key;
    spec.ek_extensions = true;
    return mint(spec);
  }
};

const Pki& pki() {
  static const Pki p;
  return p;
}

struct EkKind {
  const char* what;
  SoftwareEk (*make)();
};
const EkKind kEks[] = {
    {"RSA-2048", [] { return makeRsaEk(); }},
    {"ECC P-256", [] { return makeEccEk(kEccNistP256); }},
    {"ECC P-384", [] { return makeEccEk(kEccNistP384); }},
};

TEST(EkCert, ValidChainThroughAnUntrustedIntermediate) {
  CaStore store = pki().store();
  for (const auto& k : kEks) {
    SoftwareEk ek = k.make();
    CertPtr cert = pki().ekCert(ek.key.get());
    auto v = validateEkCertificate(der(cert.get()), ek.pub, store, at(kNow));
    ASSERT_TRUE(v.has_value()) << k.what << ": " << v.error().toString();
    EXPECT_TRUE(v->trusted()) << k.what << ": " << ::testing::PrintToString(codes(*v));
    EXPECT_EQ(v->chain, (std::vector<std::string>{"", "CN=Vendor EK Issuing CA",
                                                  "CN=Vendor EK Root"}))
        << k.what;
    EXPECT_EQ(v->info.subject, "") << k.what;
    EXPECT_EQ(v->info.tpm_manufacturer, "id:00001014") << k.what;
    EXPECT_EQ(v->info.tpm_model, "swtpm") << k.what;
    EXPECT_EQ(v->info.tpm_version, "id:20191023") << k.what;
    // SAN, basicConstraints, keyUsage: the TCG profile's critical extensions.
    EXPECT_EQ(v->info.critical_extensions,
              (std::vector<std::string>{"2.5.29.17", "2.5.29.19", "2.5.29.15"}))
        << k.what;
  }
}

struct RejectCase {
  const char* what;
  std::vector<std::string> expected;
  // Builds the certificate bytes, the EK public to match and the store.
  void (*setup)(const SoftwareEk& ek, Bytes& cert, TpmPublic& pub, CaStore& store,
                std::time_t& now);
};

TEST(EkCert, RejectionsCarryTheirReason) {
  using V = std::vector<std::string>;
  const RejectCase cases[] = {
      {"foreign CA with the same names", V{kEkCertUntrustedIssuer},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         Pki other;  // same subject names, different keys (like two swtpm_localca setups)
         cert = der(other.ekCert(ek.key.get()).get());
         store = pki().store();
       }},
      {"intermediate missing from the store", V{kEkCertUntrustedIssuer},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         cert = der(pki().ekCert(ek.key.get()).get());
         store = CaStore();
         ASSERT_TRUE(store.addTrusted(der(pki().root.cert.get())).has_value());
       }},
      {"empty CA store", V{kEkCertUntrustedIssuer},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         cert = der(pki().ekCert(ek.key.get()).get());
         store = CaStore();
       }},
      {"self-signed EK certificate", V{kEkCertUntrustedIssuer},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         MintSpec s;
         s.key = ek.key.get();
         s.ek_extensions = true;
         cert = der(mint(s).get());
         store = pki().store();
       }},
      {"expired", V{kEkCertExpired},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t& now) {
         MintSpec s;
         s.not_before = kNow - 20 * kDay;
         s.not_after = kNow - 10 * kDay;
         cert = der(pki().ekCert(ek.key.get(), s).get());
         store = pki().store();
         now = kNow;
       }},
      {"valid certificate checked after notAfter", V{kEkCertExpired},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t& now) {
         cert = der(pki().ekCert(ek.key.get()).get());
         store = pki().store();
         now = kNow + 3651 * kDay;
       }},
      {"not yet valid", V{kEkCertNotYetValid},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         MintSpec s;
         s.not_before = kNow + kDay;
         cert = der(pki().ekCert(ek.key.get(), s).get());
         store = pki().store();
       }},
      {"expired intermediate", V{kEkCertExpired},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         Ca old = makeIntermediate("Vendor EK Issuing CA", pki().root, true, kNow - kDay);
         MintSpec s;
         s.issuer = &old;
         s.key = ek.key.get();
         s.ek_extensions = true;
         cert = der(mint(s).get());
         store = CaStore();
         ASSERT_TRUE(store.addTrusted(der(pki().root.cert.get())).has_value());
         ASSERT_TRUE(store.addIntermediates(pem(old.cert.get())).has_value());
       }},
      {"key mismatch", V{kEkCertKeyMismatch},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic& pub, CaStore& store, std::time_t&) {
         cert = der(pki().ekCert(ek.key.get()).get());
         pub = (ek.pub.type == KeyType::kRsa ? makeRsaEk() : makeEccEk(ek.pub.curve)).pub;
         store = pki().store();
       }},
      {"key of another type", V{kEkCertKeyMismatch},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic& pub, CaStore& store, std::time_t&) {
         cert = der(pki().ekCert(ek.key.get()).get());
         pub = (ek.pub.type == KeyType::kRsa ? makeEccEk(kEccNistP256) : makeRsaEk()).pub;
         store = pki().store();
       }},
      {"signature by another key", V{kEkCertSignatureInvalid},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         EvpPkeyPtr forger = newKey();
         MintSpec s;
         s.authority_key_id = false;  // so chain building picks the issuer by name
         s.sign_with = forger.get();
         cert = der(pki().ekCert(ek.key.get(), s).get());
         store = pki().store();
       }},
      {"unknown critical extension", V{kEkCertUnhandledCritical},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         MintSpec s;
         s.unknown_critical_extension = true;
         cert = der(pki().ekCert(ek.key.get(), s).get());
         store = pki().store();
       }},
      {"issuer is not a CA", V{kEkCertIssuerNotCa},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         Ca leafish = makeIntermediate("Not A CA", pki().root, false);
         MintSpec s;
         s.issuer = &leafish;
         s.key = ek.key.get();
         s.ek_extensions = true;
         cert = der(mint(s).get());
         store = CaStore();
         ASSERT_TRUE(store.addTrusted(der(pki().root.cert.get())).has_value());
         ASSERT_TRUE(store.addIntermediates(der(leafish.cert.get())).has_value());
       }},
      {"expired and foreign: both reported", V{kEkCertUntrustedIssuer, kEkCertExpired},
       [](const SoftwareEk& ek, Bytes& cert, TpmPublic&, CaStore& store, std::time_t&) {
         Pki other;
         MintSpec s;
         s.not_after = kNow - kDay;
         cert = der(other.ekCert(ek.key.get(), s).get());
         store = pki().store();
       }},
  };
  for (const auto& k : kEks) {
    SoftwareEk ek = k.make();
    for (const auto& c : cases) {
      Bytes cert;
      TpmPublic pub = ek.pub;
      CaStore store;
      std::time_t now = kNow;
      c.setup(ek, cert, pub, store, now);
      auto v = validateEkCertificate(cert, pub, store, at(now));
      ASSERT_TRUE(v.has_value()) << k.what << " / " << c.what << ": " << v.error().toString();
      EXPECT_FALSE(v->trusted()) << k.what << " / " << c.what;
      EXPECT_EQ(codes(*v), c.expected) << k.what << " / " << c.what;
      for (const auto& r : v->reasons) EXPECT_FALSE(r.detail.empty());
    }
  }
}

TEST(EkCert, PinnedIntermediateIsAnAnchor) {
  SoftwareEk ek = makeEccEk(kEccNistP256);
  CaStore store;
  ASSERT_TRUE(store.addTrusted(pem(pki().issuer.cert.get())).has_value());
  auto v = validateEkCertificate(der(pki().ekCert(ek.key.get()).get()), ek.pub, store, at(kNow));
  ASSERT_TRUE(v.has_value()) << v.error().toString();
  EXPECT_TRUE(v->trusted()) << ::testing::PrintToString(codes(*v));
  EXPECT_EQ(v->chain.size(), 2u);
}

TEST(EkCert, AcceptsDerPemAndNvPadding) {
  SoftwareEk ek = makeRsaEk();
  CertPtr cert = pki().ekCert(ek.key.get());
  Bytes zero_padded = der(cert.get());
  zero_padded.resize(zero_padded.size() + 64, 0x00);
  Bytes ff_padded = der(cert.get());
  ff_padded.resize(ff_padded.size() + 7, 0xff);
  CaStore store = pki().store();
  for (const Bytes& input : {der(cert.get()), pem(cert.get()), zero_padded, ff_padded}) {
    auto v = validateEkCertificate(input, ek.pub, store, at(kNow));
    ASSERT_TRUE(v.has_value()) << v.error().toString();
    EXPECT_TRUE(v->trusted());
  }
}

TEST(EkCert, MalformedInputIsAnError) {
  SoftwareEk ek = makeRsaEk();
  CertPtr cert = pki().ekCert(ek.key.get());
  Bytes good = der(cert.get());
  Bytes junk_tail = good;
  junk_tail.push_back(0x01);
  Bytes truncated(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
  Bytes two_pems = pem(cert.get());
  Bytes second = pem(pki().issuer.cert.get());
  two_pems.insert(two_pems.end(), second.begin(), second.end());
  std::string bad_b64 = "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n";
  std::string no_cert = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  const std::pair<const char*, Bytes> cases[] = {
      {"empty", {}},
      {"garbage", Bytes{0xde, 0xad, 0xbe, 0xef}},
      {"one byte", Bytes{0x30}},
      {"truncated DER", truncated},
      {"junk after DER", junk_tail},
      {"two PEM certificates", two_pems},
      {"PEM with bad base64", Bytes(bad_b64.begin(), bad_b64.end())},
      {"PEM without a certificate", Bytes(no_cert.begin(), no_cert.end())},
  };
  CaStore store = pki().store();
  for (const auto& [what, input] : cases) {
    auto v = validateEkCertificate(input, ek.pub, store, at(kNow));
    ASSERT_FALSE(v.has_value()) << what;
    EXPECT_EQ(v.error().code(), ErrorCode::kMalformed) << what << ": " << v.error().toString();
  }
}

TEST(CaStore, RejectsNonCertificates) {
  CaStore store;
  EXPECT_FALSE(store.addTrusted(Bytes{1, 2, 3}).has_value());
  EXPECT_FALSE(store.addIntermediates(Bytes{}).has_value());
  EXPECT_EQ(store.trustedCount(), 0u);
  Bytes bundle = pem(pki().root.cert.get());
  Bytes second = pem(pki().issuer.cert.get());
  bundle.insert(bundle.end(), second.begin(), second.end());
  auto n = store.addTrusted(bundle);
  ASSERT_TRUE(n.has_value()) << n.error().toString();
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(store.trustedCount(), 2u);
}

// Real certificates issued by swtpm_localca (see tests/testdata/ekcert/README.md).
class SwtpmTestdata : public ::testing::Test {
 protected:
  static Bytes file(const std::string& name) {
    const char* src = std::getenv("BULWARK_SOURCE_DIR");
    std::string dir = std::string(src ? src : ".") + "/tests/testdata/ekcert/";
    auto bytes = readFile(dir + name);
    EXPECT_TRUE(bytes.has_value()) << dir + name;
    return bytes.value_or(Bytes{});
  }
  static TpmPublic pub(const std::string& name) {
    auto p = parseTpm2bPublic(file(name));
    EXPECT_TRUE(p.has_value());
    return p.value_or(TpmPublic{});
  }
  static CaStore store() {
    CaStore s;
    EXPECT_TRUE(s.addTrusted(file("swtpm_localca_root.pem")).has_value());
    EXPECT_TRUE(s.addIntermediates(file("swtpm_localca_issuer.pem")).has_value());
    return s;
  }
  static constexpr std::time_t kAfterIssue = 1893456000;   // 2030-01-01
  static constexpr std::time_t kBeforeIssue = 1767225600;  // 2026-01-01
};

TEST_F(SwtpmTestdata, RsaAndEccCertificatesValidate) {
  const std::pair<const char*, const char*> eks[] = {
      {"swtpm_ek_rsa.der", "swtpm_ek_rsa.pub"},
      {"swtpm_ek_ecc_p384.der", "swtpm_ek_ecc_p384.pub"},
  };
  CaStore s = store();
  for (const auto& [cert, ek] : eks) {
    auto v = validateEkCertificate(file(cert), pub(ek), s, at(kAfterIssue));
    ASSERT_TRUE(v.has_value()) << cert << ": " << v.error().toString();
    EXPECT_TRUE(v->trusted()) << cert << ": " << ::testing::PrintToString(codes(*v));
    EXPECT_EQ(v->chain, (std::vector<std::string>{"CN=unknown", "CN=swtpm-localca",
                                                  "CN=swtpm-localca-rootca"}));
    EXPECT_EQ(v->info.tpm_model, "swtpm");
    using namespace std::chrono;
    EXPECT_EQ(v->info.not_before, sys_days{year{2026} / November / 22} + 21h + 52min + 1s);
    EXPECT_EQ(v->info.not_after, sys_days{year{9999} / December / 31} + 23h + 59min + 59s);
    EXPECT_EQ(v->info.critical_extensions,
              (std::vector<std::string>{"2.5.29.17", "2.5.29.19", "2.5.29.15"}));
  }
}

TEST_F(SwtpmTestdata, SwappedKeysAndEarlyTimeAreRejected) {
  CaStore s = store();
  auto swapped = validateEkCertificate(file("swtpm_ek_rsa.der"), pub("swtpm_ek_ecc_p384.pub"), s,
                                       at(kAfterIssue));
  ASSERT_TRUE(swapped.has_value());
  EXPECT_EQ(codes(*swapped), std::vector<std::string>{kEkCertKeyMismatch});
  auto early = validateEkCertificate(file("swtpm_ek_rsa.der"), pub("swtpm_ek_rsa.pub"), s,
                                     at(kBeforeIssue));
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(codes(*early), std::vector<std::string>{kEkCertNotYetValid});
}

}  // namespace
}  // namespace bulwark::attest
