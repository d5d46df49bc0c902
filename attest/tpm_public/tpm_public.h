// TPM public areas (TPM 2.0 Part 2 §12.2.4 TPMT_PUBLIC, §12.2.5 TPM2B_PUBLIC):
// parse the marshalled bytes, compute the object Name, and convert to an OpenSSL
// EVP_PKEY. Pure: bytes in, values out.
#pragma once

#include <cstdint>
#include <memory>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace bulwark::attest {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

enum class KeyType { kRsa, kEcc };

// TPMA_OBJECT bits (Part 2 §8.3.2).
namespace object_attr {
inline constexpr std::uint32_t kFixedTpm = 1u << 1;
inline constexpr std::uint32_t kFixedParent = 1u << 4;
inline constexpr std::uint32_t kSensitiveDataOrigin = 1u << 5;
inline constexpr std::uint32_t kUserWithAuth = 1u << 6;
inline constexpr std::uint32_t kAdminWithPolicy = 1u << 7;
inline constexpr std::uint32_t kRestricted = 1u << 16;
inline constexpr std::uint32_t kDecrypt = 1u << 17;
inline constexpr std::uint32_t kSign = 1u << 18;
}  // namespace object_attr

// TPM_ECC_CURVE values we handle.
inline constexpr std::uint16_t kEccNistP256 = 0x0003;
inline constexpr std::uint16_t kEccNistP384 = 0x0004;

struct TpmPublic {
  KeyType type = KeyType::kRsa;
  HashAlg name_alg = HashAlg::kSha256;
  std::uint32_t attributes = 0;
  Bytes auth_policy;
  // Symmetric algorithm of a storage/decrypt parent (TPMT_SYM_DEF_OBJECT).
  std::uint16_t sym_alg = 0x0010;  // TPM_ALG_NULL
  std::uint16_t sym_key_bits = 0;
  // Signing scheme (TPM_ALG_NULL when none) and its hash.
  std::uint16_t scheme = 0x0010;
  std::uint16_t scheme_hash = 0x0010;
  // RSA
  std::uint16_t rsa_bits = 0;
  std::uint32_t rsa_exponent = 0;  // 0 means the default 65537
  Bytes rsa_modulus;
  // ECC
  std::uint16_t curve = 0;
  Bytes ecc_x;
  Bytes ecc_y;

  Bytes tpmt_public;  // the marshalled TPMT_PUBLIC (what the Name hashes)

  bool has(std::uint32_t attr) const { return (attributes & attr) == attr; }
};

// Parses a marshalled TPM2B_PUBLIC (2-byte size + TPMT_PUBLIC), as written by
// `tpm2_createak -u` / `tpm2_readpublic -o`. Trailing bytes are an error.
Result<TpmPublic> parseTpm2bPublic(ByteView bytes);
// Parses a bare marshalled TPMT_PUBLIC.
Result<TpmPublic> parseTpmtPublic(ByteView bytes);

// Name = nameAlg (2 bytes, big-endian) || H_nameAlg(TPMT_PUBLIC). Part 1 §16.
Bytes objectName(const TpmPublic& pub);

// The public key as an OpenSSL key (RSA or EC on P-256/P-384).
Result<EvpPkeyPtr> toEvpPkey(const TpmPublic& pub);

// Loads a PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----").
Result<EvpPkeyPtr> parsePemPublicKey(ByteView pem);
// Accepts either a TPM2B_PUBLIC or a PEM public key (auto-detected).
Result<EvpPkeyPtr> loadPublicKey(ByteView bytes);

// Drains the OpenSSL error queue into one line (for Error messages).
std::string opensslErrors();

}  // namespace bulwark::attest
