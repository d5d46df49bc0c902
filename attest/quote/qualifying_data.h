// The qualifying data (TPM2_Quote's qualifyingData, echoed as TPMS_ATTEST.extraData)
// with which Bulwark binds a quote to both the verifier's nonce and the whole
// report: SHA-256(nonce || SHA-256(report bytes)) (DESIGN §3, attestation step 3).
#pragma once

#include "attest/core/bytes.h"

namespace bulwark::attest {

// 32 bytes. Hashing the report first keeps the quote input fixed-size whatever
// the report length; prefixing the nonce makes every quote single-use.
Bytes qualifyingData(ByteView nonce, ByteView report);

}  // namespace bulwark::attest
