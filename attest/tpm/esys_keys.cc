// EsysTpm: EK and AK lifecycle and credential activation.
#include <tss2/tss2_mu.h>

#include "attest/tpm/ak_blob.h"
#include "attest/tpm/esys_core.h"
#include "attest/tpm/key_templates.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

using esys::EsysPtr;
using esys::ScopedHandle;
using esys::tssError;

namespace {

Result<EkType> ekTypeOf(const TpmObject& ek) {
  auto pub = parseTpm2bPublic(ek.tpm2bPublic());
  if (!pub) return std::unexpected(pub.error());
  if (pub->type == KeyType::kRsa && pub->rsa_bits == 2048) return EkType::kRsa2048;
  if (pub->type == KeyType::kEcc && pub->curve == kEccNistP256) return EkType::kEccP256;
  if (pub->type == KeyType::kEcc && pub->curve == kEccNistP384) return EkType::kEccP384;
  return fail(ErrorCode::kInvalidArgument, "object is not one of our EK types");
}

// Wraps a loaded handle and its public area into a TpmObject owned by `owner`.
Result<TpmObject> makeObject(const std::shared_ptr<EsysTpm::Core>& owner, ScopedHandle handle,
                             const TPM2B_PUBLIC& pub) {
  auto pub_bytes = esys::marshal(pub, Tss2_MU_TPM2B_PUBLIC_Marshal, "TPM2B_PUBLIC");
  if (!pub_bytes) return std::unexpected(pub_bytes.error());
  TPM2B_NAME* raw = nullptr;
  TSS2_RC rc = Esys_TR_GetName(owner->ctx, handle.get(), &raw);
  EsysPtr<TPM2B_NAME> name(raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_TR_GetName", rc));
  std::weak_ptr<TpmObjectOwner> weak = owner;
  return TpmObject(weak, handle.release(), std::move(*pub_bytes),
                   Bytes(name->name, name->name + name->size));
}

}  // namespace

Result<ScopedHandle> EsysTpm::Core::ekUserSession(const TpmObject& ek) {
  auto pub = parseTpm2bPublic(ek.tpm2bPublic());
  if (!pub) return std::unexpected(pub.error());
  if (pub->has(object_attr::kUserWithAuth)) return ScopedHandle(ctx, ESYS_TR_PASSWORD);
  TPMT_SYM_DEF sym{};
  sym.algorithm = TPM2_ALG_NULL;
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &sym,
                                     static_cast<TPMI_ALG_HASH>(pub->name_alg), &session);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_StartAuthSession", rc));
  ScopedHandle guard(ctx, session);
  // PolicyA (EK Credential Profile 2.5, Annex B): PolicySecret(TPM_RH_ENDORSEMENT),
  // authorised with the endorsement hierarchy's authValue (Part 3 §23.4).
  TPM2B_TIMEOUT* timeout = nullptr;
  TPMT_TK_AUTH* ticket = nullptr;
  rc = Esys_PolicySecret(ctx, ESYS_TR_RH_ENDORSEMENT, guard.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, &timeout, &ticket);
  EsysPtr<TPM2B_TIMEOUT> free_timeout(timeout);
  EsysPtr<TPMT_TK_AUTH> free_ticket(ticket);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_PolicySecret", rc));
  return guard;
}

Result<TpmObject> EsysTpm::createEk(EkType type) {
  TPM2B_PUBLIC in_public = ekTemplate(type);
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* out_raw = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(core_->ctx, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &in_public, &outside,
                                  &creation_pcr, &handle, &out_raw, nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PUBLIC> out_public(out_raw);
  if (rc != TSS2_RC_SUCCESS) {
    return std::unexpected(tssError("Esys_CreatePrimary", rc).within(ekTypeName(type)));
  }
  return makeObject(core_, ScopedHandle(core_->ctx, handle), *out_public);
}

Result<CreatedAk> EsysTpm::createAk(const TpmObject& ek, AkType type) {
  if (auto ok = checkOwned(ek, "EK"); !ok) return std::unexpected(ok.error());
  auto ek_type = ekTypeOf(ek);
  if (!ek_type) return std::unexpected(ek_type.error());
  auto session = core_->ekUserSession(ek);
  if (!session) return std::unexpected(session.error());
  TPM2B_PUBLIC in_public = akTemplate(type);
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  TPM2B_PRIVATE* priv_raw = nullptr;
  TPM2B_PUBLIC* pub_raw = nullptr;
  TSS2_RC rc = Esys_Create(core_->ctx, ek.handle(), session->get(), ESYS_TR_NONE, ESYS_TR_NONE,
                           &sensitive, &in_public, &outside, &creation_pcr, &priv_raw, &pub_raw,
                           nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PRIVATE> out_private(priv_raw);
  EsysPtr<TPM2B_PUBLIC> out_public(pub_raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_Create", rc).within("AK"));
  session->reset();

  AkBlob blob{*ek_type, type, ek.name(), {}, {}};
  auto pub = esys::marshal(*out_public, Tss2_MU_TPM2B_PUBLIC_Marshal, "TPM2B_PUBLIC");
  auto priv = esys::marshal(*out_private, Tss2_MU_TPM2B_PRIVATE_Marshal, "TPM2B_PRIVATE");
  if (!pub) return std::unexpected(pub.error());
  if (!priv) return std::unexpected(priv.error());
  blob.tpm2b_public = std::move(*pub);
  blob.tpm2b_private = std::move(*priv);
  Bytes encoded = encodeAkBlob(blob);
  auto key = loadAk(ek, encoded);
  if (!key) return std::unexpected(key.error());
  return CreatedAk{std::move(*key), std::move(encoded)};
}

Result<TpmObject> EsysTpm::loadAk(const TpmObject& ek, ByteView blob_bytes) {
  if (auto ok = checkOwned(ek, "EK"); !ok) return std::unexpected(ok.error());
  auto blob = decodeAkBlob(blob_bytes);
  if (!blob) return std::unexpected(blob.error());
  auto ek_type = ekTypeOf(ek);
  if (!ek_type) return std::unexpected(ek_type.error());
  if (*ek_type != blob->ek_type) {
    return fail(ErrorCode::kInvalidArgument,
                "AK blob belongs under a " + std::string(ekTypeName(blob->ek_type)) + " EK, not " +
                    std::string(ekTypeName(*ek_type)),
                "loadAk");
  }
  if (!constantTimeEqual(ek.name(), blob->ek_name)) {
    return fail(ErrorCode::kInvalidArgument,
                "AK blob was created under another EK (a different TPM, or the endorsement "
                "seed changed): create and enroll a new AK",
                "loadAk");
  }
  auto pub = esys::unmarshal<TPM2B_PUBLIC>(blob->tpm2b_public, Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                                           "TPM2B_PUBLIC");
  auto priv = esys::unmarshal<TPM2B_PRIVATE>(blob->tpm2b_private, Tss2_MU_TPM2B_PRIVATE_Unmarshal,
                                             "TPM2B_PRIVATE");
  if (!pub) return std::unexpected(pub.error());
  if (!priv) return std::unexpected(priv.error());
  auto session = core_->ekUserSession(ek);
  if (!session) return std::unexpected(session.error());
  ESYS_TR handle = ESYS_TR_NONE;
  TSS2_RC rc = Esys_Load(core_->ctx, ek.handle(), session->get(), ESYS_TR_NONE, ESYS_TR_NONE,
                         &*priv, &*pub, &handle);
  if (rc != TSS2_RC_SUCCESS) {
    Error e = tssError("Esys_Load", rc).within("AK");
    if (esys::isIntegrityError(rc)) {
      // Same EK (the Name matched) but the wrapping no longer verifies: the hierarchy
      // proof changed (TPM2_Clear) or the blob's private area was altered.
      return fail(ErrorCode::kTpm,
                  e.message() +
                      ": the AK no longer loads under this EK (TPM cleared since "
                      "the AK was created, or the blob was altered); create and "
                      "enroll a new AK",
                  e.context());
    }
    return std::unexpected(std::move(e));
  }
  return makeObject(core_, ScopedHandle(core_->ctx, handle), *pub);
}

Result<Bytes> EsysTpm::activateCredential(const TpmObject& ak, const TpmObject& ek,
                                          ByteView credential_blob, ByteView encrypted_secret) {
  if (auto ok = checkOwned(ak, "AK"); !ok) return std::unexpected(ok.error());
  if (auto ok = checkOwned(ek, "EK"); !ok) return std::unexpected(ok.error());
  auto cred = esys::unmarshal<TPM2B_ID_OBJECT>(credential_blob, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                               "TPM2B_ID_OBJECT");
  auto secret = esys::unmarshal<TPM2B_ENCRYPTED_SECRET>(
      encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal, "TPM2B_ENCRYPTED_SECRET");
  if (!cred) return std::unexpected(cred.error().within("credential blob"));
  if (!secret) return std::unexpected(secret.error().within("encrypted secret"));
  auto session = core_->ekUserSession(ek);
  if (!session) return std::unexpected(session.error());
  // Part 3 §12.5: activateHandle (the AK, ADMIN role: its empty authValue since
  // adminWithPolicy is CLEAR) and keyHandle (the EK, USER role).
  TPM2B_DIGEST* raw = nullptr;
  TSS2_RC rc = Esys_ActivateCredential(core_->ctx, ak.handle(), ek.handle(), ESYS_TR_PASSWORD,
                                       session->get(), ESYS_TR_NONE, &*cred, &*secret, &raw);
  EsysPtr<TPM2B_DIGEST> cert_info(raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_ActivateCredential", rc));
  return Bytes(cert_info->buffer, cert_info->buffer + cert_info->size);
}

}  // namespace bulwark::attest
