// EsysTpm's connection state, shared by its translation units (esys_tpm.cc,
// esys_keys.cc, esys_pcr.cc). Internal.
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "attest/tpm/esys_tpm.h"
#include "attest/tpm/esys_util.h"

namespace bulwark::attest {

class EsysTpm::Core final : public TpmObjectOwner {
 public:
  Core() = default;
  ~Core() override {
    // ESAPI first: it still references the TCTI while finalising.
    if (ctx != nullptr) Esys_Finalize(&ctx);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  void flushObject(std::uint32_t handle) noexcept override {
    if (ctx != nullptr) (void)Esys_FlushContext(ctx, handle);
  }

  // The authorisation for the EK's USER role (TPM2_Create/Load under it,
  // ActivateCredential's keyHandle): a PolicySecret(TPM_RH_ENDORSEMENT) session for the
  // low-range templates (userWithAuth CLEAR), the empty password otherwise (high-range
  // templates set userWithAuth). The session is flushed when the handle goes away.
  Result<esys::ScopedHandle> ekUserSession(const TpmObject& ek);

  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* ctx = nullptr;
  std::uint32_t nv_buffer_max = 512;  // TPM2_PT_NV_BUFFER_MAX, read at open()
};

}  // namespace bulwark::attest
