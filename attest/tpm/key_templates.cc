#include "attest/tpm/key_templates.h"

#include <cstring>

#include "attest/core/digest.h"

namespace bulwark::attest {

namespace {

// EK Credential Profile 2.5, Annex B policies (the published digests).
constexpr std::uint8_t kPolicyASha256[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};
constexpr std::uint8_t kPolicyBSha384[48] = {
    0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc, 0xf5, 0xfd, 0x3a, 0x1a,
    0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4, 0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca,
    0xcb, 0x47, 0xba, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12};

// Low-range EK attributes (Annex B, L templates): fixedTPM, fixedParent, sensitiveDataOrigin,
// adminWithPolicy, restricted, decrypt; userWithAuth CLEAR so USER needs PolicyA.
constexpr TPMA_OBJECT kEkLowAttributes =
    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
    TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
// High-range (Annex B, H templates): as above plus userWithAuth.
constexpr TPMA_OBJECT kEkHighAttributes = kEkLowAttributes | TPMA_OBJECT_USERWITHAUTH;

void setPolicy(TPM2B_DIGEST& out, const std::uint8_t* data, std::size_t size) {
  out.size = static_cast<UINT16>(size);
  std::memcpy(out.buffer, data, size);
}

void setAes(TPMT_SYM_DEF_OBJECT& sym, UINT16 bits) {
  sym.algorithm = TPM2_ALG_AES;
  sym.keyBits.aes = bits;
  sym.mode.aes = TPM2_ALG_CFB;
}

}  // namespace

Bytes ekPolicyASha256() { return Bytes(std::begin(kPolicyASha256), std::end(kPolicyASha256)); }
Bytes ekPolicyBSha384() { return Bytes(std::begin(kPolicyBSha384), std::end(kPolicyBSha384)); }

Bytes policySecretDigest(HashAlg alg, ByteView entity_name) {
  Bytes zeros(hashAlgSize(alg), 0);
  const std::uint8_t cc[4] = {0x00, 0x00, 0x01, 0x51};  // TPM_CC_PolicySecret
  Hasher h(alg);
  Bytes first = h.update(zeros).update(cc).update(entity_name).finish();
  return h.update(first).finish();  // policyRef is empty
}

TPM2B_PUBLIC ekTemplate(EkType type) {
  TPM2B_PUBLIC pub{};
  TPMT_PUBLIC& t = pub.publicArea;
  switch (type) {
    case EkType::kRsa2048:  // template L-1 (Annex B)
      t.type = TPM2_ALG_RSA;
      t.nameAlg = TPM2_ALG_SHA256;
      t.objectAttributes = kEkLowAttributes;
      setPolicy(t.authPolicy, kPolicyASha256, sizeof kPolicyASha256);
      setAes(t.parameters.rsaDetail.symmetric, 128);
      t.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
      t.parameters.rsaDetail.keyBits = 2048;
      t.parameters.rsaDetail.exponent = 0;
      t.unique.rsa.size = 256;  // 256 zero bytes
      break;
    case EkType::kEccP256:  // template L-2 (Annex B)
      t.type = TPM2_ALG_ECC;
      t.nameAlg = TPM2_ALG_SHA256;
      t.objectAttributes = kEkLowAttributes;
      setPolicy(t.authPolicy, kPolicyASha256, sizeof kPolicyASha256);
      setAes(t.parameters.eccDetail.symmetric, 128);
      t.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
      t.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
      t.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
      t.unique.ecc.x.size = 32;  // 32 zero bytes each
      t.unique.ecc.y.size = 32;
      break;
    case EkType::kEccP384:  // template H-3 (Annex B): unique is empty in the high range
      t.type = TPM2_ALG_ECC;
      t.nameAlg = TPM2_ALG_SHA384;
      t.objectAttributes = kEkHighAttributes;
      setPolicy(t.authPolicy, kPolicyBSha384, sizeof kPolicyBSha384);
      setAes(t.parameters.eccDetail.symmetric, 256);
      t.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
      t.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
      t.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
      break;
  }
  return pub;
}

TPM2B_PUBLIC akTemplate(AkType type) {
  TPM2B_PUBLIC pub{};
  TPMT_PUBLIC& t = pub.publicArea;
  t.nameAlg = TPM2_ALG_SHA256;
  t.objectAttributes = kAkAttributes;
  if (type == AkType::kRsa2048) {
    t.type = TPM2_ALG_RSA;
    t.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    t.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    t.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    t.parameters.rsaDetail.keyBits = 2048;
    t.parameters.rsaDetail.exponent = 0;
  } else {
    t.type = TPM2_ALG_ECC;
    t.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    t.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    t.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    t.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    t.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  }
  return pub;
}

}  // namespace bulwark::attest
