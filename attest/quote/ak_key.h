// An Attestation Key's public part, parsed once and reused for many quotes. The
// EVP_PKEY is immutable after construction and reference-counted by OpenSSL, so
// one AkKey (and its copies) may be shared by verifiers on several threads.
#pragma once

#include <cstdint>
#include <string>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

class AkKey {
 public:
  // A marshalled TPM2B_PUBLIC (`tpm2_createak -u`). Keeps the key's own signing
  // scheme, so a quote signed under another scheme is rejected.
  [[nodiscard]] static Result<AkKey> fromTpm2bPublic(ByteView bytes);
  // A PEM SubjectPublicKeyInfo (`tpm2_readpublic -f pem`): scheme unknown, any
  // scheme fitting the key type (RSASSA/RSAPSS for RSA, ECDSA for EC) is accepted.
  [[nodiscard]] static Result<AkKey> fromPem(ByteView pem);
  // PEM when the bytes contain a PEM header, TPM2B_PUBLIC otherwise.
  [[nodiscard]] static Result<AkKey> load(ByteView bytes);
  // An already parsed key with an optional fixed scheme (TPM_ALG_NULL = none).
  // Refuses RSA under 2048 bits and curves other than P-256, P-384, P-521.
  [[nodiscard]] static Result<AkKey> fromEvpPkey(EvpPkeyPtr key,
                                                 std::uint16_t scheme = kAlgNull,
                                                 std::uint16_t scheme_hash = kAlgNull);

  AkKey(const AkKey& other);
  AkKey& operator=(const AkKey& other);
  AkKey(AkKey&&) noexcept = default;
  AkKey& operator=(AkKey&&) noexcept = default;
  ~AkKey() = default;

  KeyType type() const { return type_; }
  int bits() const { return bits_; }
  // TPM_ALG_ID of the key's fixed scheme and its hash; kAlgNull when not fixed.
  std::uint16_t scheme() const { return scheme_; }
  std::uint16_t schemeHash() const { return scheme_hash_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }
  // "rsa2048", "ecc-p256", plus "/rsassa-sha256" when the scheme is fixed.
  std::string describe() const;

  static constexpr std::uint16_t kAlgNull = 0x0010;

 private:
  AkKey(EvpPkeyPtr key, KeyType type, int bits, std::uint16_t scheme,
        std::uint16_t scheme_hash);

  EvpPkeyPtr pkey_;
  KeyType type_;
  int bits_;
  std::uint16_t scheme_;
  std::uint16_t scheme_hash_;
};

}  // namespace bulwark::attest
