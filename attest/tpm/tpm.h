// The TPM as Bulwark's agent needs it: EK certificates and keys, an attestation key
// that survives reboots, PCR read/extend, quotes and credential activation. A narrow
// seam (STYLE.md): the agent and tests talk to `Tpm`; `EsysTpm` (esys_tpm.h) is the
// tpm2-tss ESAPI implementation. Byte layouts follow TPM 2.0 Part 2 and are always the
// marshalled (big-endian) TPM structures, so they travel in Evidence unchanged.
//
// Errors: every method returns an Error instead of a value when the TPM or the
// transport failed. ErrorCode::kTpm carries the decoded TSS2_RC and the ESAPI
// operation as context; kUnavailable means the TPM could not be reached; kNotFound
// an absent NV index or PCR bank; kInvalidArgument a caller mistake (bad selection,
// oversized qualifyingData, an object from another Tpm). No method throws.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "attest/core/bytes.h"
#include "attest/quote/pcr_selection.h"

namespace bulwark::attest {

// EK templates of the TCG EK Credential Profile 2.5, Annex B (docs/tpm.md).
enum class EkType : std::uint8_t {
  kRsa2048 = 1,  // template L-1, certificate NV 0x01c00002
  kEccP256 = 2,  // template L-2, certificate NV 0x01c0000a
  kEccP384 = 3,  // template H-3, certificate NV 0x01c00016 (what swtpm 0.7 provisions)
};
// Restricted signing AKs (like tpm2_createak).
enum class AkType : std::uint8_t {
  kRsa2048 = 1,  // RSASSA-PKCS1-v1_5 with SHA-256
  kEccP256 = 2,  // ECDSA with SHA-256
};

std::string_view ekTypeName(EkType type);  // "rsa2048", "ecc-p256", "ecc-p384"
std::string_view akTypeName(AkType type);  // "rsa2048", "ecc-p256"
// NV index of the EK certificate for that template (EK Credential Profile 2.5 §2.2.1).
std::uint32_t ekCertNvIndex(EkType type);

// Implemented by a Tpm backend: releases one transient object in the TPM.
class TpmObjectOwner {
 public:
  virtual ~TpmObjectOwner() = default;
  virtual void flushObject(std::uint32_t handle) noexcept = 0;
};

// A key loaded in the TPM (transient object). Move-only; the destructor flushes it
// from the TPM (TPM2_FlushContext), so the TPM's few object slots are never leaked.
// An object that outlives its Tpm is inert (nothing left to flush: the connection
// and, with a resource manager, the object are gone).
class TpmObject {
 public:
  TpmObject() = default;
  TpmObject(std::weak_ptr<TpmObjectOwner> owner, std::uint32_t handle, Bytes tpm2b_public,
            Bytes name);
  ~TpmObject();
  TpmObject(TpmObject&& other) noexcept;
  TpmObject& operator=(TpmObject&& other) noexcept;
  TpmObject(const TpmObject&) = delete;
  TpmObject& operator=(const TpmObject&) = delete;

  bool valid() const { return owner_id_ != nullptr; }
  // Backend handle (an ESYS_TR for EsysTpm); meaningful only to its owner.
  std::uint32_t handle() const { return handle_; }
  bool ownedBy(const TpmObjectOwner* owner) const { return valid() && owner_id_ == owner; }
  // Marshalled TPM2B_PUBLIC (Part 2 §12.2.5) as the TPM reported it.
  const Bytes& tpm2bPublic() const { return public_; }
  // Name = nameAlg || H(TPMT_PUBLIC) (Part 1 §16).
  const Bytes& name() const { return name_; }
  // Flushes now (idempotent).
  void reset() noexcept;

 private:
  std::weak_ptr<TpmObjectOwner> owner_;
  const TpmObjectOwner* owner_id_ = nullptr;
  std::uint32_t handle_ = 0;
  Bytes public_;
  Bytes name_;
};

// One bank's digest for TPM2_PCR_Extend (an entry of TPML_DIGEST_VALUES).
struct TaggedDigest {
  HashAlg alg = HashAlg::kSha256;
  Bytes digest;
};

// A freshly created AK: loaded, plus its persistent blob (ak_blob.h) to save.
struct CreatedAk {
  TpmObject key;
  Bytes blob;
};

struct QuoteResult {
  Bytes attest;     // marshalled TPMS_ATTEST (TPM2B_ATTEST.attestationData): the signed bytes
  Bytes signature;  // marshalled TPMT_SIGNATURE (Part 2 §11.3.4)
  PcrValues pcrs;   // PCR values whose digest equals the attest's pcrDigest
};

// TPMS_TIME_INFO (Part 2 §10.11.6).
struct TpmClock {
  std::uint64_t time = 0;   // ms since TPM2_Startup
  std::uint64_t clock = 0;  // ms the TPM has been powered (monotonic, survives resets)
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  bool safe = false;
};

class Tpm {
 public:
  virtual ~Tpm() = default;

  // DER EK certificate from its NV index (read in TPM2_PT_NV_BUFFER_MAX chunks).
  // kNotFound when the index is not defined (no certificate provisioned).
  [[nodiscard]] virtual Result<Bytes> readEkCertificate(EkType type) = 0;
  // Contents of any NV index readable with its own (empty) auth or owner auth.
  [[nodiscard]] virtual Result<Bytes> readNv(std::uint32_t nv_index) = 0;

  // Creates the EK in the endorsement hierarchy from the default template. The
  // key is deterministic per TPM and template, so it equals the certified key.
  [[nodiscard]] virtual Result<TpmObject> createEk(EkType type) = 0;

  // Creates a restricted signing AK under `ek` and loads it. The returned blob holds
  // the AK's TPM2B_PUBLIC and TPM2B_PRIVATE (wrapped by the EK) and reloads with
  // loadAk() after a TPM reset or reboot.
  [[nodiscard]] virtual Result<CreatedAk> createAk(const TpmObject& ek, AkType type) = 0;
  // Loads a blob from createAk() under `ek`, which must be the same EK type and key
  // (kInvalidArgument otherwise: another TPM or endorsement seed; kMalformed for a bad
  // blob; kTpm "no longer loads" after TPM2_Clear, whose new hierarchy proof voids it).
  [[nodiscard]] virtual Result<TpmObject> loadAk(const TpmObject& ek, ByteView blob) = 0;

  // Values of the selected PCRs, banks in selection order, indices ascending.
  // kNotFound when a bank is not allocated on this TPM.
  [[nodiscard]] virtual Result<PcrValues> readPcrs(const PcrSelection& selection) = 0;
  // Extends PCR `index` in every listed bank at once (TPM2_PCR_Extend with a
  // TPML_DIGEST_VALUES). Each digest must have its bank's size.
  [[nodiscard]] virtual Result<void> extendPcr(std::uint32_t index,
                                               std::span<const TaggedDigest> digests) = 0;

  // TPM2_Quote by `ak` over `selection` with qualifyingData (at most 64 bytes).
  // The PCR values returned are re-read until their digest matches the quote.
  [[nodiscard]] virtual Result<QuoteResult> quote(const TpmObject& ak,
                                                  const PcrSelection& selection,
                                                  ByteView qualifying_data) = 0;

  // TPM2_ActivateCredential: `credential_blob` is a marshalled TPM2B_ID_OBJECT,
  // `encrypted_secret` a marshalled TPM2B_ENCRYPTED_SECRET (Part 1 §24). Returns the
  // certInfo secret. kTpm when the credential was not made for this AK/EK pair.
  [[nodiscard]] virtual Result<Bytes> activateCredential(const TpmObject& ak, const TpmObject& ek,
                                                         ByteView credential_blob,
                                                         ByteView encrypted_secret) = 0;

  // `count` bytes from the TPM RNG (TPM2_GetRandom, looped).
  [[nodiscard]] virtual Result<Bytes> getRandom(std::size_t count) = 0;
  [[nodiscard]] virtual Result<TpmClock> readClock() = 0;
};

}  // namespace bulwark::attest
