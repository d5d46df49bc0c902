// The CEL writer's PcrExtender over the agent's Tpm (attest/tpm/tpm.h): one
// TPM2_PCR_Extend carrying a digest for every bank the writer logs (TPM 2.0 Part 3
// §22.2, TPML_DIGEST_VALUES), so all banks of the PCR move together and each one
// replays from the log.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "attest/cel/cel_writer.h"
#include "attest/tpm/tpm.h"

namespace bulwark::agent {

class TpmPcrExtender final : public attest::PcrExtender {
 public:
  // `tpm` must outlive this object.
  explicit TpmPcrExtender(attest::Tpm& tpm) : tpm_(tpm) {}

  Result<void> extend(std::uint32_t pcr,
                      const std::vector<std::pair<HashAlg, Bytes>>& digests) override;

  // TPM2_PCR_Extend commands sent so far (the "extends per cycle" number).
  std::uint64_t extendCount() const { return extends_.load(); }

 private:
  attest::Tpm& tpm_;
  std::atomic<std::uint64_t> extends_{0};
};

// The banks allocated for `pcr` on this TPM, in sha1, sha256, sha384, sha512
// order (a bank is allocated when TPM2_PCR_Read returns a value for it). The
// writer must extend every one of them: a bank left behind could not be replayed.
// kNotFound when no known bank is allocated.
[[nodiscard]] Result<std::vector<HashAlg>> allocatedBanks(attest::Tpm& tpm, std::uint32_t pcr);

}  // namespace bulwark::agent
