// The TPM quote as the cycle needs it, behind a narrow interface (the
// privileged side of docs/agent.md): PCR selection and 32 bytes of qualifying
// data in, TPMS_ATTEST + signature + PCR values out. TpmQuoter is the real one.
#pragma once

#include "attest/tpm/tpm.h"

namespace bulwark::agent {

class Quoter {
 public:
  virtual ~Quoter() = default;
  // TPM2_Quote (TPM 2.0 Part 3 §18.4) with the enrolled AK. Errors: kNotFound
  // not enrolled, kTpm/kUnavailable TPM failures (the AK no longer loading after
  // a TPM clear is kTpm: re-enroll).
  [[nodiscard]] virtual Result<attest::QuoteResult> quote(const attest::PcrSelection& selection,
                                                          ByteView qualifying_data) = 0;
};

}  // namespace bulwark::agent
