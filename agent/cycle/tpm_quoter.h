// Quoter over attest::Tpm with the AK persisted by enrollment. The EK and AK stay
// loaded between cycles (re-creating an RSA EK costs a prime search on many
// TPMs); after a TPM error they are reloaded once, which also covers a TPM reset
// under a long-running daemon.
#pragma once

#include <optional>
#include <string>

#include "agent/cycle/quoter.h"
#include "agent/enroll/tpm_agent_identity.h"

namespace bulwark::agent {

class TpmQuoter final : public Quoter {
 public:
  // `tpm` must outlive this object.
  TpmQuoter(attest::Tpm& tpm, std::string ak_blob_path)
      : tpm_(tpm), ak_blob_path_(std::move(ak_blob_path)) {}

  Result<attest::QuoteResult> quote(const attest::PcrSelection& selection,
                                    ByteView qualifying_data) override;

 private:
  attest::Tpm& tpm_;
  std::string ak_blob_path_;
  std::optional<LoadedAk> loaded_;
};

}  // namespace bulwark::agent
