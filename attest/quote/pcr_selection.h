// PCR selections (TPM 2.0 Part 2 §10.6.2 TPMS_PCR_SELECTION, §10.9.7 TPML_PCR_SELECTION)
// and the PCR values a quote covers. Pure and allocation-free for selections: a
// selection holds at most TPM2_NUM_PCR_BANKS banks inline, so the quote hot path
// copies it without touching the heap.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"

namespace bulwark::attest {

// TPM2_MAX_PCRS in tpm2-tss: four select bytes, PCR indices 0..31.
inline constexpr std::uint32_t kMaxPcrs = 32;

// One bank: bit i of `mask` selects PCR i (pcrSelect[i / 8] bit i % 8).
struct PcrBankSelection {
  HashAlg alg = HashAlg::kSha256;
  std::uint32_t mask = 0;
  bool operator==(const PcrBankSelection&) const = default;
};

// An ordered list of distinct banks. The order is significant: TPM2_Quote hashes
// the PCR values bank by bank in selection order, each bank in ascending index
// order (Part 1 §17.6.2, Part 3 §18.4).
class PcrSelection {
 public:
  static constexpr std::size_t kMaxBanks = 16;  // TPM2_NUM_PCR_BANKS

  // Parses the tpm2-tools syntax "sha256:0,1,2+sha1:0,7" ("all" = PCRs 0..23).
  // Banks must be distinct and each must select at least one PCR.
  [[nodiscard]] static Result<PcrSelection> parse(std::string_view spec);

  // Appends a bank; rejects duplicates, an empty mask and a 17th bank.
  [[nodiscard]] Result<void> add(HashAlg alg, std::uint32_t mask);

  std::span<const PcrBankSelection> banks() const { return {banks_.data(), size_}; }
  bool empty() const { return size_ == 0; }
  // Number of selected PCRs over all banks.
  std::size_t pcrCount() const;
  // Back to the tpm2-tools syntax, e.g. "sha256:0,1,2+sha1:0".
  std::string toString() const;

  bool operator==(const PcrSelection& other) const;

 private:
  std::array<PcrBankSelection, kMaxBanks> banks_{};
  std::size_t size_ = 0;
};

// One quoted PCR value.
struct PcrValue {
  std::uint32_t index = 0;
  Bytes value;
  bool operator==(const PcrValue&) const = default;
};

// The values of one bank, ascending by index (as evidence and tpm2-tools carry them).
struct PcrBankValues {
  HashAlg alg = HashAlg::kSha256;
  std::vector<PcrValue> values;
  bool operator==(const PcrBankValues&) const = default;
};
using PcrValues = std::vector<PcrBankValues>;

// Checks that `values` holds exactly one value of the bank's digest size for every
// PCR in `selection` and nothing else. kMalformed names the first discrepancy.
[[nodiscard]] Result<void> checkPcrValuesMatch(const PcrSelection& selection,
                                               std::span<const PcrBankValues> values);

// The subset of `values` that `selection` asks for, in selection order; kMalformed
// when a selected PCR has no value (or a value of the wrong size).
[[nodiscard]] Result<PcrValues> selectPcrValues(std::span<const PcrBankValues> values,
                                                const PcrSelection& selection);

// The value of PCR `index` in bank `alg`, or nullptr.
const Bytes* findPcrValue(std::span<const PcrBankValues> values, HashAlg alg,
                          std::uint32_t index);

// Calls fn(ByteView value) for every selected PCR in quote order (banks in selection
// order, indices ascending). Returns false, having stopped, when a value is missing.
template <typename Fn>
bool forEachQuotedValue(const PcrSelection& selection, std::span<const PcrBankValues> values,
                        Fn&& fn) {
  for (const PcrBankSelection& bank : selection.banks()) {
    for (std::uint32_t i = 0; i < kMaxPcrs; ++i) {
      if ((bank.mask & (1u << i)) == 0) continue;
      const Bytes* v = findPcrValue(values, bank.alg, i);
      if (v == nullptr) return false;
      fn(ByteView(*v));
    }
  }
  return true;
}

// H_alg(value(bank0, lowest index) || ... ) — the pcrDigest of TPMS_QUOTE_INFO
// (Part 3 §18.4), where alg is the hash of the quote's signing scheme. Requires
// checkPcrValuesMatch(selection, values) to have passed.
[[nodiscard]] Result<Bytes> computePcrDigest(HashAlg alg, const PcrSelection& selection,
                                             std::span<const PcrBankValues> values);

}  // namespace bulwark::attest
