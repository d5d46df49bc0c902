// AgentIdentity over attest::Tpm (EsysTpm in production, swtpm in tests).
#pragma once

#include <string>

#include "agent/enroll/agent_identity.h"
#include "attest/tpm/tpm.h"

namespace bulwark::agent {

// The EK re-created from its template and the AK loaded under it.
struct LoadedAk {
  attest::TpmObject ek;
  attest::TpmObject ak;
  attest::EkType ek_type = attest::EkType::kRsa2048;
  attest::AkType ak_type = attest::AkType::kRsa2048;
};

// Loads the AK persisted at `ak_blob_path` (ak_blob.h). Errors as Tpm::loadAk, and
// kNotFound when there is no blob (not enrolled).
[[nodiscard]] Result<LoadedAk> loadPersistedAk(attest::Tpm& tpm, const std::string& ak_blob_path);

[[nodiscard]] Result<attest::EkType> ekTypeFromName(std::string_view name);
[[nodiscard]] Result<attest::AkType> akTypeFromName(std::string_view name);

class TpmAgentIdentity final : public AgentIdentity {
 public:
  // `tpm` must outlive this object.
  TpmAgentIdentity(attest::Tpm& tpm, std::string ak_blob_path)
      : tpm_(tpm), ak_blob_path_(std::move(ak_blob_path)) {}

  Result<IdentityMaterial> create(std::string_view ek_type, std::string_view ak_type) override;
  Result<IdentityMaterial> load() override;
  Result<Bytes> activate(ByteView credential_blob, ByteView encrypted_secret) override;

 private:
  Result<attest::EkType> chooseEk(std::string_view ek_type, Bytes& certificate);

  attest::Tpm& tpm_;
  std::string ak_blob_path_;
};

}  // namespace bulwark::agent
