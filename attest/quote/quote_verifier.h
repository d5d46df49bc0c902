// Verification of a TPM2_Quote (TPM 2.0 Part 3 §18.4) against one Attestation Key.
//
// Checks, all run so a rejection names every failed one:
//   signature-scheme-mismatch  scheme fits the AK (RSASSA/RSAPSS for RSA, ECDSA for EC;
//                              exactly the AK's own scheme+hash when it has one)
//   signature-hash-weak        signing hash is SHA-256 or stronger (no SHA-1 downgrade)
//   signature-invalid          signature over the TPMS_ATTEST bytes verifies with the AK
//   attest-magic               magic == TPM_GENERATED_VALUE (Part 2 §6.2)
//   attest-type                type == TPM_ST_ATTEST_QUOTE (Part 2 §6.9)
//   nonce-mismatch             extraData == expected qualifying data (constant time)
//   pcr-selection-mismatch     quoted TPML_PCR_SELECTION == requested selection exactly
//   pcr-digest-mismatch        pcrDigest == H_sig(PCR values in selection order)
//
// Performance: the AK's EVP_PKEY is parsed once; the verifier keeps one EVP_MD_CTX and
// one initialised EVP_PKEY_CTX per (scheme, hash) it has seen, so a verification
// allocates nothing on the success path apart from OpenSSL's own ECDSA_SIG for EC keys.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "attest/core/bytes.h"
#include "attest/quote/ak_key.h"
#include "attest/quote/pcr_selection.h"
#include "attest/quote/verdict.h"

typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_ctx_st EVP_MD_CTX;
struct TPMT_SIGNATURE;
struct TPMS_ATTEST;

namespace bulwark::attest {

// What the verifier expects of one quote.
struct QuoteExpectation {
  ByteView qualifying_data;               // extraData the quote must carry
  const PcrSelection* selection;          // the requested PCR selection (not null)
  std::span<const PcrBankValues> values;  // supplied values: exactly the selected PCRs
};

class QuoteVerifier {
 public:
  // kCrypto only when OpenSSL cannot allocate its contexts.
  [[nodiscard]] static Result<QuoteVerifier> create(AkKey key);

  QuoteVerifier(QuoteVerifier&& other) noexcept;
  QuoteVerifier& operator=(QuoteVerifier&& other) noexcept;
  QuoteVerifier(const QuoteVerifier&) = delete;
  QuoteVerifier& operator=(const QuoteVerifier&) = delete;
  ~QuoteVerifier();

  const AkKey& key() const { return key_; }

  // Verifies `attest` (marshalled TPMS_ATTEST) and `signature` (marshalled
  // TPMT_SIGNATURE). Error: the bytes do not parse, the supplied PCR values do not
  // cover exactly the requested selection, or an algorithm is unsupported.
  // Otherwise a verdict. Not thread-safe (reuses contexts): one verifier per thread,
  // sharing the AkKey is fine.
  [[nodiscard]] Result<QuoteVerdict> verify(ByteView attest, ByteView signature,
                                            const QuoteExpectation& expected);

 private:
  struct CachedCtx {
    std::uint16_t scheme = 0;
    std::uint16_t hash = 0;
    EVP_PKEY_CTX* ctx = nullptr;
  };
  struct SigCheck;

  QuoteVerifier(AkKey key, EVP_MD_CTX* md_ctx);
  void release();

  Result<EVP_PKEY_CTX*> verifyCtx(std::uint16_t scheme, HashAlg hash);
  Result<SigCheck> checkSignature(ByteView attest, const TPMT_SIGNATURE& sig,
                                  std::vector<Rejection>& reasons);
  Result<bool> signatureVerifies(ByteView attest, const TPMT_SIGNATURE& sig, HashAlg hash);
  std::size_t hashInto(HashAlg alg, ByteView data, std::span<std::uint8_t, 64> out);
  void checkPcrDigest(const TPMS_ATTEST& attest, HashAlg hash, const QuoteExpectation& expected,
                      std::vector<Rejection>& reasons);

  AkKey key_;
  EVP_MD_CTX* md_ctx_;
  std::array<CachedCtx, 12> ctx_cache_{};
  std::size_t ctx_count_ = 0;
};

}  // namespace bulwark::attest
