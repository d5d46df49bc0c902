// Test helper: endorsement keys made in software, with TPM public areas built from
// the TCG EK Credential Profile default templates (L-1 RSA-2048, L-2 ECC P-256) and
// the P-384 template swtpm 0.7.1 uses (nameAlg SHA-384, AES-256-CFB). The private
// key stays with the test so it can play the TPM's part of ActivateCredential.
// Header-only so unit tests of other modules (ekcert) can use it.
#pragma once

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <string>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest::testing {

struct SoftwareEk {
  EvpPkeyPtr key;  // private key
  TpmPublic pub;   // its TPM public area (EK template)
};

// authPolicy of the low-range templates: PolicySecret(TPM_RH_ENDORSEMENT), SHA-256.
inline Bytes ekPolicySha256() {
  return *fromHex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");
}

inline Bytes bnParam(EVP_PKEY* key, const char* name, std::size_t pad) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  Bytes out(pad ? pad : static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

inline TpmPublic parseOrDie(const TPMT_PUBLIC& t) {
  std::uint8_t buf[sizeof(TPMT_PUBLIC)];
  std::size_t off = 0;
  EXPECT_EQ(Tss2_MU_TPMT_PUBLIC_Marshal(&t, buf, sizeof buf, &off), TSS2_RC_SUCCESS);
  auto pub = parseTpmtPublic(ByteView(buf, off));
  EXPECT_TRUE(pub.has_value()) << pub.error().toString();
  return pub.value_or(TpmPublic{});
}

inline void copyTo(const Bytes& in, std::uint8_t* out, std::uint16_t& size) {
  std::copy(in.begin(), in.end(), out);
  size = static_cast<std::uint16_t>(in.size());
}

inline TpmPublic rsaEkPublic(const Bytes& modulus) {
  TPMT_PUBLIC t{};
  t.type = TPM2_ALG_RSA;
  t.nameAlg = TPM2_ALG_SHA256;
  t.objectAttributes = 0x000300B2;  // fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt
  copyTo(ekPolicySha256(), t.authPolicy.buffer, t.authPolicy.size);
  t.parameters.rsaDetail.symmetric = {TPM2_ALG_AES, {128}, {TPM2_ALG_CFB}};
  t.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  t.parameters.rsaDetail.keyBits = static_cast<std::uint16_t>(modulus.size() * 8);
  copyTo(modulus, t.unique.rsa.buffer, t.unique.rsa.size);
  return parseOrDie(t);
}

// curve: kEccNistP256 (SHA-256, AES-128) or kEccNistP384 (SHA-384, AES-256).
inline TpmPublic eccEkPublic(std::uint16_t curve, const Bytes& x, const Bytes& y) {
  bool p384 = curve == kEccNistP384;
  TPMT_PUBLIC t{};
  t.type = TPM2_ALG_ECC;
  t.nameAlg = p384 ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256;
  t.objectAttributes = p384 ? 0x000300F2 : 0x000300B2;
  if (p384) {
    copyTo(*fromHex("b26e7d28d11a50bc53d882bcf5fd3a1a074148bb35d3b4e4cb1c0ad9bde419ca"
                    "cb47ba09699646150f9fc000f3f80e12"),
           t.authPolicy.buffer, t.authPolicy.size);
  } else {
    copyTo(ekPolicySha256(), t.authPolicy.buffer, t.authPolicy.size);
  }
  t.parameters.eccDetail.symmetric = {TPM2_ALG_AES, {static_cast<TPM2_KEY_BITS>(p384 ? 256 : 128)},
                                      {TPM2_ALG_CFB}};
  t.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  t.parameters.eccDetail.curveID = curve;
  t.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  copyTo(x, t.unique.ecc.x.buffer, t.unique.ecc.x.size);
  copyTo(y, t.unique.ecc.y.buffer, t.unique.ecc.y.size);
  return parseOrDie(t);
}

inline SoftwareEk makeRsaEk(unsigned bits = 2048) {
  SoftwareEk ek{EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{bits})), {}};
  EXPECT_TRUE(ek.key);
  ek.pub = rsaEkPublic(bnParam(ek.key.get(), OSSL_PKEY_PARAM_RSA_N, 0));
  return ek;
}

inline SoftwareEk makeEccEk(std::uint16_t curve) {
  std::size_t size = curve == kEccNistP384 ? 48 : 32;
  SoftwareEk ek{EvpPkeyPtr(EVP_PKEY_Q_keygen(
                                   nullptr, nullptr, "EC", curve == kEccNistP384 ? "P-384" : "P-256")), {}};
  EXPECT_TRUE(ek.key);
  ek.pub = eccEkPublic(curve, bnParam(ek.key.get(), OSSL_PKEY_PARAM_EC_PUB_X, size),
                       bnParam(ek.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, size));
  return ek;
}

}  // namespace bulwark::attest::testing
