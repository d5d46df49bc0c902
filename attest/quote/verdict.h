// The outcome of checking a TPM2_Quote. An Error (Result's error side) means the
// quote could not be checked (malformed bytes, unsupported algorithm). A
// QuoteVerdict means it was checked: either every check passed and it holds a
// VerifiedQuote, or it holds one or more named Rejections.
//
// Security invariant: a VerifiedQuote can only be made by QuoteVerifier::verify
// after every check passed. Its constructor is private, it has no default
// constructor, and a QuoteVerdict cannot be built outside the verifier either.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/quote/pcr_selection.h"

namespace bulwark::attest {

class QuoteVerifier;

enum class RejectReason {
  kSignatureInvalid,         // signature does not verify over the attest bytes with the AK
  kSignatureSchemeMismatch,  // scheme does not fit the AK (key type or the AK's fixed scheme)
  kSignatureHashWeak,        // signing hash below SHA-256 (downgrade)
  kAttestMagic,              // magic != TPM_GENERATED_VALUE: not produced by a TPM
  kAttestType,               // type != TPM_ST_ATTEST_QUOTE
  kNonceMismatch,            // extraData != expected qualifying data
  kPcrSelectionMismatch,     // quoted selection != requested selection
  kPcrDigestMismatch,        // pcrDigest != H(supplied PCR values)
};

// Stable names used in logs, CLI output and EAR details, e.g. "nonce-mismatch".
std::string_view rejectReasonName(RejectReason reason);

struct Rejection {
  RejectReason reason;
  std::string detail;  // expected vs actual, hex
};

// TPMS_CLOCK_INFO (TPM 2.0 Part 2 §10.11.1).
struct QuoteClock {
  std::uint64_t clock = 0;          // ms the TPM has been powered, monotonic unless cleared
  std::uint32_t reset_count = 0;    // TPM Resets (reboots) since the last TPM2_Clear
  std::uint32_t restart_count = 0;  // TPM Restarts/Resumes since the last reset
  bool safe = false;                // clock has not been rolled back since the last clear
};

// A quote that passed every check. Values come from the signed TPMS_ATTEST.
class VerifiedQuote {
 public:
  const QuoteClock& clockInfo() const { return clock_; }
  std::uint64_t clock() const { return clock_.clock; }
  std::uint32_t resetCount() const { return clock_.reset_count; }
  std::uint32_t restartCount() const { return clock_.restart_count; }
  bool safe() const { return clock_.safe; }
  std::uint64_t firmwareVersion() const { return firmware_version_; }
  // Qualified Name of the signing key (TPM 2.0 Part 1 §16.6): nameAlg ||
  // H(QN(parent) || Name(key)), so it also pins the AK's parent (the EK).
  ByteView qualifiedSigner() const { return {qualified_signer_.data(), signer_size_}; }
  ByteView pcrDigest() const { return {pcr_digest_.data(), digest_size_}; }
  const PcrSelection& selection() const { return selection_; }
  std::uint16_t signatureScheme() const { return sig_scheme_; }  // TPM_ALG_ID
  HashAlg signatureHash() const { return sig_hash_; }

 private:
  friend class QuoteVerifier;
  VerifiedQuote(const QuoteClock& clock, std::uint64_t firmware_version, ByteView signer,
                ByteView pcr_digest, const PcrSelection& selection, std::uint16_t sig_scheme,
                HashAlg sig_hash);

  QuoteClock clock_;
  std::uint64_t firmware_version_;
  std::array<std::uint8_t, 2 + 64> qualified_signer_{};
  std::size_t signer_size_ = 0;
  std::array<std::uint8_t, 64> pcr_digest_{};
  std::size_t digest_size_ = 0;
  PcrSelection selection_;
  std::uint16_t sig_scheme_;
  HashAlg sig_hash_;
};

class QuoteVerdict {
 public:
  // True only when the verifier found no reason to reject.
  bool verified() const { return std::holds_alternative<VerifiedQuote>(outcome_); }
  // The verified quote, or nullptr when rejected.
  const VerifiedQuote* quote() const { return std::get_if<VerifiedQuote>(&outcome_); }
  // Empty exactly when verified().
  std::span<const Rejection> rejections() const;
  bool rejectedFor(RejectReason reason) const;
  // "signature-invalid: ...; nonce-mismatch: ..." (empty when verified).
  std::string summary() const;

 private:
  friend class QuoteVerifier;
  explicit QuoteVerdict(VerifiedQuote q) : outcome_(std::move(q)) {}
  // `reasons` must not be empty (a broken invariant aborts: an empty rejection
  // list must never read as "no reason to reject").
  explicit QuoteVerdict(std::vector<Rejection> reasons);

  std::variant<VerifiedQuote, std::vector<Rejection>> outcome_;
};

}  // namespace bulwark::attest
