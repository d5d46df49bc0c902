// Tpm over tpm2-tss 3.x ESAPI. The TCTI comes from a validated config string
// (tcti_config.h) through Tss2_TctiLdr. Every TSS2_RC becomes an Error carrying the
// ESAPI operation and the Tss2_RC_Decode text (esys_util.h); every transient object
// and session is flushed by RAII. One EsysTpm is one TPM connection: not thread-safe,
// use it from one thread (the agent's privileged TPM worker) at a time.
#pragma once

#include <memory>
#include <string>

#include "attest/tpm/tpm.h"

namespace bulwark::attest {

struct EsysTpmOptions {
  std::string tcti;              // "" = device:/dev/tpmrm0; see tcti_config.h
  std::string endorsement_auth;  // authValue of TPM_RH_ENDORSEMENT (usually empty)
};

class EsysTpm final : public Tpm {
 public:
  // Connects: kInvalidArgument for a bad TCTI string, kUnavailable when the TPM
  // cannot be reached, kTpm when ESAPI initialisation fails.
  [[nodiscard]] static Result<std::unique_ptr<EsysTpm>> open(const EsysTpmOptions& options);
  ~EsysTpm() override;

  Result<Bytes> readEkCertificate(EkType type) override;
  Result<Bytes> readNv(std::uint32_t nv_index) override;
  Result<TpmObject> createEk(EkType type) override;
  Result<CreatedAk> createAk(const TpmObject& ek, AkType type) override;
  Result<TpmObject> loadAk(const TpmObject& ek, ByteView blob) override;
  Result<PcrValues> readPcrs(const PcrSelection& selection) override;
  Result<void> extendPcr(std::uint32_t index, std::span<const TaggedDigest> digests) override;
  Result<QuoteResult> quote(const TpmObject& ak, const PcrSelection& selection,
                            ByteView qualifying_data) override;
  Result<Bytes> activateCredential(const TpmObject& ak, const TpmObject& ek,
                                   ByteView credential_blob, ByteView encrypted_secret) override;
  Result<Bytes> getRandom(std::size_t count) override;
  Result<TpmClock> readClock() override;

  // The ESAPI context and its TCTI (defined in esys_tpm.cc).
  class Core;

 private:
  explicit EsysTpm(std::shared_ptr<Core> core);
  Result<void> checkOwned(const TpmObject& object, std::string_view what) const;
  // One attempt of quote(); the caller retries when PCRs moved underneath it.
  Result<QuoteResult> quoteOnce(const TpmObject& ak, const PcrSelection& selection,
                                ByteView qualifying_data);

  std::shared_ptr<Core> core_;
};

}  // namespace bulwark::attest
