// The TPM side of enrollment as the network side sees it: a narrow interface so
// that the process talking to the verifier never holds the TPM (DESIGN §5
// privilege separation; docs/agent.md). TpmAgentIdentity is the real one; unit
// tests substitute a fake. Nothing here returns private key material: the AK
// never leaves the TPM, its blob stays in the state directory.
#pragma once

#include <string>
#include <string_view>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

// Public parts sent in EnrollRequest.
struct IdentityMaterial {
  std::string ek_type;   // "rsa2048" | "ecc-p256" | "ecc-p384"
  std::string ak_type;   // "rsa2048" | "ecc-p256"
  Bytes ek_certificate;  // DER from TPM NV (EK Credential Profile 2.5 §2.2.1)
  Bytes ek_public;       // TPM2B_PUBLIC of the EK from the TCG default template
  Bytes ak_public;       // TPM2B_PUBLIC of the restricted signing AK
};

class AgentIdentity {
 public:
  virtual ~AgentIdentity() = default;
  // Creates the EK (type "auto" = the first of rsa2048, ecc-p256, ecc-p384 that
  // has a certificate in NV) and a fresh AK ("auto" = RSA AK for an RSA EK, P-256
  // otherwise), persists the AK blob (0600) and returns the public parts. Errors:
  // kNotFound no EK certificate, kTpm/kUnavailable TPM failures.
  [[nodiscard]] virtual Result<IdentityMaterial> create(std::string_view ek_type,
                                                        std::string_view ak_type) = 0;
  // The public parts of the persisted identity. kNotFound: no AK blob; kTpm: the
  // AK no longer loads (TPM cleared, other TPM) — the agent must re-enroll.
  [[nodiscard]] virtual Result<IdentityMaterial> load() = 0;
  // TPM2_ActivateCredential (TPM 2.0 Part 3 §12.5) with the persisted AK under the
  // EK; returns the secret. kTpm when the credential is not for this AK/EK.
  [[nodiscard]] virtual Result<Bytes> activate(ByteView credential_blob,
                                               ByteView encrypted_secret) = 0;
};

}  // namespace bulwark::agent
