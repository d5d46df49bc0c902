#include "agent/enroll/tpm_agent_identity.h"

#include <filesystem>

#include "attest/tpm/ak_blob.h"

namespace bulwark::agent {

using attest::AkType;
using attest::EkType;

Result<EkType> ekTypeFromName(std::string_view name) {
  for (EkType t : {EkType::kRsa2048, EkType::kEccP256, EkType::kEccP384}) {
    if (attest::ekTypeName(t) == name) return t;
  }
  return fail(ErrorCode::kInvalidArgument,
              "unknown EK type '" + std::string(name) + "' (rsa2048, ecc-p256, ecc-p384)");
}

Result<AkType> akTypeFromName(std::string_view name) {
  for (AkType t : {AkType::kRsa2048, AkType::kEccP256}) {
    if (attest::akTypeName(t) == name) return t;
  }
  return fail(ErrorCode::kInvalidArgument,
              "unknown AK type '" + std::string(name) + "' (rsa2048, ecc-p256)");
}

Result<LoadedAk> loadPersistedAk(attest::Tpm& tpm, const std::string& ak_blob_path) {
  std::error_code ec;
  if (!std::filesystem::exists(ak_blob_path, ec)) {
    return fail(ErrorCode::kNotFound, "no attestation key: run `bulwark-agent enroll`",
                ak_blob_path);
  }
  auto bytes = attest::readAkBlobFile(ak_blob_path);
  if (!bytes) return std::unexpected(bytes.error());
  auto blob = attest::decodeAkBlob(*bytes);
  if (!blob) return std::unexpected(blob.error());
  auto ek = tpm.createEk(blob->ek_type);
  if (!ek) return std::unexpected(ek.error());
  auto ak = tpm.loadAk(*ek, *bytes);
  if (!ak) return std::unexpected(ak.error());
  return LoadedAk{std::move(*ek), std::move(*ak), blob->ek_type, blob->ak_type};
}

Result<EkType> TpmAgentIdentity::chooseEk(std::string_view ek_type, Bytes& certificate) {
  if (ek_type != "auto") {
    auto type = ekTypeFromName(ek_type);
    if (!type) return type;
    auto cert = tpm_.readEkCertificate(*type);
    if (!cert) return std::unexpected(cert.error());
    certificate = std::move(*cert);
    return type;
  }
  // EK Credential Profile 2.5 §2.2.1: RSA first (the most widely provisioned),
  // then the ECC templates.
  for (EkType type : {EkType::kRsa2048, EkType::kEccP256, EkType::kEccP384}) {
    auto cert = tpm_.readEkCertificate(type);
    if (cert) {
      certificate = std::move(*cert);
      return type;
    }
    if (cert.error().code() != ErrorCode::kNotFound) return std::unexpected(cert.error());
  }
  return fail(ErrorCode::kNotFound,
              "this TPM has no EK certificate in NV (0x01c00002, 0x01c0000a, 0x01c00016); "
              "the verifier cannot trust an EK without one");
}

Result<IdentityMaterial> TpmAgentIdentity::create(std::string_view ek_type,
                                                  std::string_view ak_type) {
  IdentityMaterial m;
  auto ek_kind = chooseEk(ek_type, m.ek_certificate);
  if (!ek_kind) return std::unexpected(ek_kind.error());
  AkType ak_kind = *ek_kind == EkType::kRsa2048 ? AkType::kRsa2048 : AkType::kEccP256;
  if (ak_type != "auto") {
    auto t = akTypeFromName(ak_type);
    if (!t) return std::unexpected(t.error());
    ak_kind = *t;
  }
  auto ek = tpm_.createEk(*ek_kind);
  if (!ek) return std::unexpected(ek.error());
  auto ak = tpm_.createAk(*ek, ak_kind);
  if (!ak) return std::unexpected(ak.error());
  if (auto r = attest::saveAkBlobFile(ak_blob_path_, ak->blob); !r)
    return std::unexpected(r.error());
  m.ek_type = std::string(attest::ekTypeName(*ek_kind));
  m.ak_type = std::string(attest::akTypeName(ak_kind));
  m.ek_public = ek->tpm2bPublic();
  m.ak_public = ak->key.tpm2bPublic();
  return m;
}

Result<IdentityMaterial> TpmAgentIdentity::load() {
  auto loaded = loadPersistedAk(tpm_, ak_blob_path_);
  if (!loaded) return std::unexpected(loaded.error());
  auto cert = tpm_.readEkCertificate(loaded->ek_type);
  if (!cert) return std::unexpected(cert.error());
  IdentityMaterial m;
  m.ek_type = std::string(attest::ekTypeName(loaded->ek_type));
  m.ak_type = std::string(attest::akTypeName(loaded->ak_type));
  m.ek_certificate = std::move(*cert);
  m.ek_public = loaded->ek.tpm2bPublic();
  m.ak_public = loaded->ak.tpm2bPublic();
  return m;
}

Result<Bytes> TpmAgentIdentity::activate(ByteView credential_blob, ByteView encrypted_secret) {
  auto loaded = loadPersistedAk(tpm_, ak_blob_path_);
  if (!loaded) return std::unexpected(loaded.error());
  return tpm_.activateCredential(loaded->ak, loaded->ek, credential_blob, encrypted_secret);
}

}  // namespace bulwark::agent
