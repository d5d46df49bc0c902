#include "attest/quote/marshal.h"

#include <tss2/tss2_mu.h>

namespace bulwark::attest {

namespace {

std::string hex16(std::uint16_t v) {
  Bytes b{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  return "0x" + toHex(b);
}

}  // namespace

Result<void> unmarshalAttest(ByteView bytes, TPMS_ATTEST& out) {
  out = TPMS_ATTEST{};
  size_t offset = 0;
  TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(bytes.data(), bytes.size(), &offset, &out);
  if (rc != TSS2_RC_SUCCESS) {
    return fail(ErrorCode::kMalformed, "not a valid TPMS_ATTEST (" +
                                           std::to_string(bytes.size()) + " bytes)");
  }
  if (offset != bytes.size()) {
    return fail(ErrorCode::kMalformed, std::to_string(bytes.size() - offset) +
                                           " trailing bytes after TPMS_ATTEST");
  }
  return {};
}

Result<void> unmarshalSignature(ByteView bytes, TPMT_SIGNATURE& out) {
  out = TPMT_SIGNATURE{};
  size_t offset = 0;
  TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(bytes.data(), bytes.size(), &offset, &out);
  if (rc != TSS2_RC_SUCCESS) {
    return fail(ErrorCode::kMalformed, "not a valid TPMT_SIGNATURE (" +
                                           std::to_string(bytes.size()) + " bytes)");
  }
  if (offset != bytes.size()) {
    return fail(ErrorCode::kMalformed, std::to_string(bytes.size() - offset) +
                                           " trailing bytes after TPMT_SIGNATURE");
  }
  return {};
}

std::string sigSchemeName(std::uint16_t tpm_alg_id) {
  switch (tpm_alg_id) {
    case TPM2_ALG_RSASSA: return "rsassa";
    case TPM2_ALG_RSAPSS: return "rsapss";
    case TPM2_ALG_ECDSA: return "ecdsa";
    case TPM2_ALG_ECDAA: return "ecdaa";
    case TPM2_ALG_ECSCHNORR: return "ecschnorr";
    case TPM2_ALG_SM2: return "sm2";
    case TPM2_ALG_HMAC: return "hmac";
    case TPM2_ALG_NULL: return "null";
    default: return hex16(tpm_alg_id);
  }
}

Result<Bytes> marshalAttest(const TPMS_ATTEST& attest) {
  Bytes out(sizeof(TPMS_ATTEST));
  size_t offset = 0;
  if (Tss2_MU_TPMS_ATTEST_Marshal(&attest, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS) {
    return fail(ErrorCode::kInvalidArgument, "TPMS_ATTEST does not marshal");
  }
  out.resize(offset);
  return out;
}

Result<Bytes> marshalSignature(const TPMT_SIGNATURE& signature) {
  Bytes out(sizeof(TPMT_SIGNATURE));
  size_t offset = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Marshal(&signature, out.data(), out.size(), &offset) !=
      TSS2_RC_SUCCESS) {
    return fail(ErrorCode::kInvalidArgument, "TPMT_SIGNATURE does not marshal");
  }
  out.resize(offset);
  return out;
}

}  // namespace bulwark::attest
