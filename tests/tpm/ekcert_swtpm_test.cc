// EK certificates as swtpm_localca issues them, read from TPM NV with tpm2-tools,
// validated by attest/ekcert against that swtpm's private CA — and rejected with
// ek-cert-untrusted-issuer against a second swtpm's CA (same CA names, other keys).
//
// swtpm 0.7.1 stores the RSA-2048 EK certificate at NV 0x01c00002 (EK at
// 0x81010001) and, for its ECC P-384 EK, NV 0x01c00016 (EK at 0x81010016).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "attest/ekcert/ca_store_loader.h"
#include "attest/ekcert/ek_cert.h"
#include "tests/support/swtpm.h"

namespace bulwark::attest {
namespace {

using bulwark::testing::Swtpm;

struct EkSlot {
  const char* what;
  const char* nv_index;
  const char* handle;
  const char* name;
};
const EkSlot kSlots[] = {
    {"RSA-2048", "0x01c00002", "0x81010001", "rsa"},
    {"ECC P-384", "0x01c00016", "0x81010016", "ecc"},
};

struct EkMaterial {
  Bytes cert;
  TpmPublic pub;
};

class EkCertSwtpm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto* tpm : {&a_, &b_}) {
      auto started = Swtpm::start();
      ASSERT_TRUE(started.has_value()) << started.error().toString();
      *tpm = std::move(*started);
      for (const auto& slot : kSlots) {
        std::string n = slot.name;
        auto r = (*tpm)->run(std::string("tpm2_nvread ") + slot.nv_index + " -o ek_" + n +
                             ".der && tpm2_readpublic -c " + slot.handle + " -o ek_" + n +
                             ".pub >/dev/null");
        ASSERT_EQ(r.exit_code, 0) << slot.what << ": " << r.output;
      }
    }
  }
  static void TearDownTestSuite() {
    a_.reset();
    b_.reset();
  }

  static EkMaterial material(const Swtpm& tpm, const EkSlot& slot) {
    std::string base = tpm.dir() + "/ek_" + slot.name;
    auto cert = readFile(base + ".der");
    auto pub_bytes = readFile(base + ".pub");
    EXPECT_TRUE(cert && pub_bytes) << base;
    auto pub = parseTpm2bPublic(pub_bytes.value_or(Bytes{}));
    EXPECT_TRUE(pub.has_value()) << base;
    return {cert.value_or(Bytes{}), pub.value_or(TpmPublic{})};
  }

  // The CA store exactly as the verifier would load it from configured paths.
  static CaStore storeOf(const Swtpm& tpm) {
    auto store = loadCaStore({{tpm.rootCaPem()}, {tpm.issuerCaPem()}});
    EXPECT_TRUE(store.has_value()) << store.error().toString();
    return store ? std::move(*store) : CaStore();
  }

  static std::vector<std::string> codes(const EkCertVerdict& v) {
    std::vector<std::string> out;
    for (const auto& r : v.reasons) out.push_back(r.code + " (" + r.detail + ")");
    return out;
  }

  static std::unique_ptr<Swtpm> a_, b_;
};

std::unique_ptr<Swtpm> EkCertSwtpm::a_;
std::unique_ptr<Swtpm> EkCertSwtpm::b_;

TEST_F(EkCertSwtpm, CertificatesFromNvValidateAgainstTheirCa) {
  auto now = std::chrono::system_clock::now();
  for (const auto* tpm : {a_.get(), b_.get()}) {
    CaStore store = storeOf(*tpm);
    for (const auto& slot : kSlots) {
      EkMaterial ek = material(*tpm, slot);
      auto v = validateEkCertificate(ek.cert, ek.pub, store, now);
      ASSERT_TRUE(v.has_value()) << slot.what << ": " << v.error().toString();
      EXPECT_TRUE(v->trusted()) << slot.what << ": " << ::testing::PrintToString(codes(*v));
      EXPECT_EQ(v->chain.size(), 3u) << slot.what;
      EXPECT_EQ(v->info.tpm_model, "swtpm") << slot.what;
    }
  }
}

TEST_F(EkCertSwtpm, AnotherSwtpmsCaIsUntrusted) {
  auto now = std::chrono::system_clock::now();
  CaStore foreign = storeOf(*b_);
  for (const auto& slot : kSlots) {
    EkMaterial ek = material(*a_, slot);
    auto v = validateEkCertificate(ek.cert, ek.pub, foreign, now);
    ASSERT_TRUE(v.has_value()) << slot.what << ": " << v.error().toString();
    EXPECT_FALSE(v->trusted()) << slot.what;
    ASSERT_EQ(v->reasons.size(), 1u) << slot.what << ": " << ::testing::PrintToString(codes(*v));
    EXPECT_EQ(v->reasons[0].code, kEkCertUntrustedIssuer) << slot.what;
  }
}

TEST_F(EkCertSwtpm, AnotherTpmsEkDoesNotMatchTheCertificate) {
  auto now = std::chrono::system_clock::now();
  CaStore store = storeOf(*a_);
  for (const auto& slot : kSlots) {
    EkMaterial cert_of_a = material(*a_, slot);
    EkMaterial ek_of_b = material(*b_, slot);
    auto v = validateEkCertificate(cert_of_a.cert, ek_of_b.pub, store, now);
    ASSERT_TRUE(v.has_value()) << slot.what;
    ASSERT_EQ(v->reasons.size(), 1u) << slot.what << ": " << ::testing::PrintToString(codes(*v));
    EXPECT_EQ(v->reasons[0].code, kEkCertKeyMismatch) << slot.what;
  }
}

}  // namespace
}  // namespace bulwark::attest
