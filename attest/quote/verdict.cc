#include "attest/quote/verdict.h"

#include <algorithm>
#include <cstdlib>

namespace bulwark::attest {

std::string_view rejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kSignatureInvalid: return "signature-invalid";
    case RejectReason::kSignatureSchemeMismatch: return "signature-scheme-mismatch";
    case RejectReason::kSignatureHashWeak: return "signature-hash-weak";
    case RejectReason::kAttestMagic: return "attest-magic";
    case RejectReason::kAttestType: return "attest-type";
    case RejectReason::kNonceMismatch: return "nonce-mismatch";
    case RejectReason::kPcrSelectionMismatch: return "pcr-selection-mismatch";
    case RejectReason::kPcrDigestMismatch: return "pcr-digest-mismatch";
  }
  return "unknown";
}

VerifiedQuote::VerifiedQuote(const QuoteClock& clock, std::uint64_t firmware_version,
                             ByteView signer, ByteView pcr_digest, const PcrSelection& selection,
                             std::uint16_t sig_scheme, HashAlg sig_hash)
    : clock_(clock),
      firmware_version_(firmware_version),
      signer_size_(std::min(signer.size(), qualified_signer_.size())),
      digest_size_(std::min(pcr_digest.size(), pcr_digest_.size())),
      selection_(selection),
      sig_scheme_(sig_scheme),
      sig_hash_(sig_hash) {
  std::copy_n(signer.begin(), signer_size_, qualified_signer_.begin());
  std::copy_n(pcr_digest.begin(), digest_size_, pcr_digest_.begin());
}

QuoteVerdict::QuoteVerdict(std::vector<Rejection> reasons) : outcome_(std::move(reasons)) {
  if (std::get<std::vector<Rejection>>(outcome_).empty()) std::abort();
}

std::span<const Rejection> QuoteVerdict::rejections() const {
  if (const auto* r = std::get_if<std::vector<Rejection>>(&outcome_)) return *r;
  return {};
}

bool QuoteVerdict::rejectedFor(RejectReason reason) const {
  return std::ranges::any_of(rejections(),
                             [reason](const Rejection& r) { return r.reason == reason; });
}

std::string QuoteVerdict::summary() const {
  std::string out;
  for (const Rejection& r : rejections()) {
    if (!out.empty()) out += "; ";
    out += rejectReasonName(r.reason);
    out += ": ";
    out += r.detail;
  }
  return out;
}

}  // namespace bulwark::attest
