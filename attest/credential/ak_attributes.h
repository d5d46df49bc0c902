// Enrollment check of an Attestation Key's public area: the verifier only binds
// an AK that the TPM created itself, cannot export, and can use only to sign
// TPM-generated structures (TPM 2.0 Part 1 §25.2 restricted signing keys; TPMA_OBJECT
// Part 2 §8.3; TCG EK Credential Profile / attestation key guidance).
#pragma once

#include <string>
#include <vector>

#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

struct AkReason {
  std::string code;    // stable name, e.g. "ak-not-restricted"
  std::string detail;  // human explanation
};

struct AkAttributeCheck {
  std::vector<AkReason> reasons;  // every failed check; empty only if all passed
  bool accepted() const { return reasons.empty(); }
};

// Named reasons:
//   ak-not-restricted, ak-not-sign, ak-not-fixed-tpm, ak-not-fixed-parent,
//   ak-not-sensitive-data-origin, ak-decrypt-set      (TPMA_OBJECT bits)
//   ak-scheme-unsupported   RSA AK without RSASSA/RSAPSS, ECC AK without ECDSA
//   ak-scheme-hash-weak     scheme hash not SHA-256/384/512
//   ak-name-alg-weak        nameAlg SHA-1 (the Name is what the credential binds)
//   ak-key-unsupported      RSA below 2048 bits, curve other than P-256/P-384
AkAttributeCheck checkAkAttributes(const TpmPublic& ak);

}  // namespace bulwark::attest
