#include "attest/credential/ak_attributes.h"

namespace bulwark::attest {
namespace {

constexpr std::uint16_t kAlgRsassa = 0x0014;
constexpr std::uint16_t kAlgRsapss = 0x0016;
constexpr std::uint16_t kAlgEcdsa = 0x0018;

struct AttributeRule {
  std::uint32_t bit;
  bool required;  // true: must be SET, false: must be CLEAR
  const char* code;
  const char* detail;
};

// Part 2 §8.3.3: restricted+sign = signs only TPM-generated structures (quotes);
// fixedTPM/fixedParent = never leaves this TPM; sensitiveDataOrigin = the TPM
// generated the private key (nobody else ever knew it); no decrypt = signing only.
constexpr AttributeRule kRules[] = {
    {object_attr::kRestricted, true, "ak-not-restricted",
     "restricted is CLEAR: the key could sign arbitrary digests that look like quotes"},
    {object_attr::kSign, true, "ak-not-sign", "sign is CLEAR: not a signing key"},
    {object_attr::kFixedTpm, true, "ak-not-fixed-tpm",
     "fixedTPM is CLEAR: the key may be duplicated to another TPM"},
    {object_attr::kFixedParent, true, "ak-not-fixed-parent",
     "fixedParent is CLEAR: the key may be duplicated"},
    {object_attr::kSensitiveDataOrigin, true, "ak-not-sensitive-data-origin",
     "sensitiveDataOrigin is CLEAR: the private key was imported, not TPM-generated"},
    {object_attr::kDecrypt, false, "ak-decrypt-set",
     "decrypt is SET: an attestation key must be signing-only"},
};

bool strongHash(std::uint16_t alg) {
  return alg == static_cast<std::uint16_t>(HashAlg::kSha256) ||
         alg == static_cast<std::uint16_t>(HashAlg::kSha384) ||
         alg == static_cast<std::uint16_t>(HashAlg::kSha512);
}

void checkScheme(const TpmPublic& ak, std::vector<AkReason>& out) {
  bool scheme_ok = ak.type == KeyType::kRsa
                       ? (ak.scheme == kAlgRsassa || ak.scheme == kAlgRsapss)
                       : ak.scheme == kAlgEcdsa;
  if (!scheme_ok) {
    out.push_back({"ak-scheme-unsupported",
                   "signing scheme 0x" + toHex(Bytes{static_cast<std::uint8_t>(ak.scheme >> 8),
                                                     static_cast<std::uint8_t>(ak.scheme)}) +
                       (ak.type == KeyType::kRsa ? " (need RSASSA or RSAPSS)" : " (need ECDSA)")});
    return;
  }
  if (!strongHash(ak.scheme_hash)) {
    out.push_back({"ak-scheme-hash-weak", "scheme hash is not SHA-256/384/512"});
  }
}

void checkKey(const TpmPublic& ak, std::vector<AkReason>& out) {
  if (ak.type == KeyType::kRsa && ak.rsa_bits < 2048) {
    out.push_back({"ak-key-unsupported", "RSA key of " + std::to_string(ak.rsa_bits) + " bits"});
  } else if (ak.type == KeyType::kEcc && ak.curve != kEccNistP256 && ak.curve != kEccNistP384) {
    out.push_back({"ak-key-unsupported", "ECC curve " + std::to_string(ak.curve)});
  }
}

}  // namespace

AkAttributeCheck checkAkAttributes(const TpmPublic& ak) {
  AkAttributeCheck result;
  for (const auto& rule : kRules) {
    if (ak.has(rule.bit) != rule.required) result.reasons.push_back({rule.code, rule.detail});
  }
  checkScheme(ak, result.reasons);
  if (ak.name_alg == HashAlg::kSha1) {
    result.reasons.push_back({"ak-name-alg-weak", "nameAlg is SHA-1"});
  }
  checkKey(ak, result.reasons);
  return result;
}

}  // namespace bulwark::attest
