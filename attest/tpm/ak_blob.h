// The AK's persistent form. A TPM2_ContextSave blob of a transient object dies with
// the TPM's reset (Part 1, Context Management: a saved object context is bound to the
// reset cycle), so the AK is persisted as what TPM2_Create returned — TPM2B_PUBLIC and
// TPM2B_PRIVATE (the private area wrapped by the EK's storage key) — and reloaded with
// TPM2_Load under the re-created EK. This survives every reboot and TPM reset. It stops
// loading when the endorsement seed changes (another TPM, TPM2_ChangeEPS: the recorded
// EK Name detects it) and after TPM2_Clear, which keeps the EK but replaces the
// hierarchy proof (TPM_RC_INTEGRITY on load). Both mean: enroll a new AK.
//
// Layout (big-endian, docs/tpm.md):
//   "BWAK" | u16 version = 1 | u8 EkType | u8 AkType
//   | TPM2B_NAME ek_name | TPM2B_PUBLIC ak_public | TPM2B_PRIVATE ak_private
// Pure: bytes in, value out; file helpers at the end.
#pragma once

#include <cstdint>
#include <string>

#include "attest/core/bytes.h"
#include "attest/tpm/tpm.h"

namespace bulwark::attest {

inline constexpr std::uint16_t kAkBlobVersion = 1;

struct AkBlob {
  EkType ek_type = EkType::kRsa2048;
  AkType ak_type = AkType::kRsa2048;
  Bytes ek_name;        // Name of the parent EK when the AK was created
  Bytes tpm2b_public;   // marshalled TPM2B_PUBLIC of the AK
  Bytes tpm2b_private;  // marshalled TPM2B_PRIVATE of the AK (opaque, EK-wrapped)
};

Bytes encodeAkBlob(const AkBlob& blob);
// kMalformed for truncated/oversized/garbled input, kUnsupported for another version
// or an unknown key type. The public area must be a restricted signing key.
[[nodiscard]] Result<AkBlob> decodeAkBlob(ByteView bytes);

// Writes atomically with mode 0600 (the private part is only usable inside this TPM,
// but the file still identifies the node's attestation key).
[[nodiscard]] Result<void> saveAkBlobFile(const std::string& path, ByteView blob);
[[nodiscard]] Result<Bytes> readAkBlobFile(const std::string& path);

}  // namespace bulwark::attest
