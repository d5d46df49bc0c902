#include "attest/tpm/esys_util.h"

#include <tss2/tss2_rc.h>

#include <cstdio>
#include <string>

namespace bulwark::attest::esys {

bool isTransportError(TSS2_RC rc) {
  // Only errors raised below the TPM (TCTI layer, or ESAPI reporting a lost TCTI).
  TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
  if (layer == TSS2_TPM_RC_LAYER) return false;
  TSS2_RC base = rc & 0xffffu;
  return base == TSS2_BASE_RC_IO_ERROR || base == TSS2_BASE_RC_NO_CONNECTION ||
         (layer == TSS2_TCTI_RC_LAYER && base == TSS2_BASE_RC_TRY_AGAIN);
}

namespace {

// Part 2 §6.6: format-1 codes have bit 7 set; the error number is in bits 0..5.
bool isFormat1(TSS2_RC rc, TSS2_RC code) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER &&
      (rc & TSS2_RC_LAYER_MASK) != TSS2_RESMGR_TPM_RC_LAYER) {
    return false;
  }
  return (rc & TPM2_RC_FMT1) != 0 && (rc & 0x3f) == (code & 0x3f);
}

}  // namespace

bool isHandleError(TSS2_RC rc) { return isFormat1(rc, TPM2_RC_HANDLE); }
bool isIntegrityError(TSS2_RC rc) { return isFormat1(rc, TPM2_RC_INTEGRITY); }

Error tssError(std::string_view operation, TSS2_RC rc) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", rc);
  std::string message = std::string(Tss2_RC_Decode(rc)) + " (" + hex + ")";
  ErrorCode code = ErrorCode::kTpm;
  if (isTransportError(rc)) code = ErrorCode::kUnavailable;
  return Error(code, std::move(message), std::string(operation));
}

}  // namespace bulwark::attest::esys
