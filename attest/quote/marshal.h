// Unmarshalling the two byte strings TPM2_Quote returns, with tpm2-tss's libtss2-mu:
// TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12; the attestationData of TPM2B_ATTEST, what
// `tpm2_quote -m` writes) and TPMT_SIGNATURE (Part 2 §11.3.4; what `tpm2_quote -s`
// writes by default). Both must consume their input exactly: trailing bytes are
// an error, so no unsigned suffix can ride along with a signed structure.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <string>

#include "attest/core/bytes.h"

namespace bulwark::attest {

// Fills `out` (a caller-owned struct, so the hot path stays off the heap).
// kMalformed on bad encoding, unknown attest type or trailing bytes.
[[nodiscard]] Result<void> unmarshalAttest(ByteView bytes, TPMS_ATTEST& out);
[[nodiscard]] Result<void> unmarshalSignature(ByteView bytes, TPMT_SIGNATURE& out);

// "rsassa", "rsapss", "ecdsa", "hmac", "null", or "0x...." for other TPM_ALG_IDs.
std::string sigSchemeName(std::uint16_t tpm_alg_id);

// Marshals a TPMS_ATTEST (tests and tools that build quotes by hand).
[[nodiscard]] Result<Bytes> marshalAttest(const TPMS_ATTEST& attest);
[[nodiscard]] Result<Bytes> marshalSignature(const TPMT_SIGNATURE& signature);

}  // namespace bulwark::attest
