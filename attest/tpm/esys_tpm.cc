#include "attest/tpm/esys_tpm.h"

#include <algorithm>
#include <cstring>

#include "attest/tpm/esys_core.h"
#include "attest/tpm/tcti_config.h"

namespace bulwark::attest {

using esys::EsysPtr;
using esys::tssError;

namespace {

Result<std::uint32_t> readFixedProperty(ESYS_CONTEXT* ctx, TPM2_PT property) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, property, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> caps(raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_GetCapability", rc));
  const TPML_TAGGED_TPM_PROPERTY& props = caps->data.tpmProperties;
  if (props.count < 1 || props.tpmProperty[0].property != property) {
    return fail(ErrorCode::kNotFound, "TPM does not report property", "Esys_GetCapability");
  }
  return props.tpmProperty[0].value;
}

}  // namespace

EsysTpm::EsysTpm(std::shared_ptr<Core> core) : core_(std::move(core)) {}
EsysTpm::~EsysTpm() = default;

Result<std::unique_ptr<EsysTpm>> EsysTpm::open(const EsysTpmOptions& options) {
  auto cfg = parseTctiConfig(options.tcti);
  if (!cfg) return std::unexpected(cfg.error());
  if (options.endorsement_auth.size() > sizeof(TPMU_HA)) {
    return fail(ErrorCode::kInvalidArgument, "endorsement auth longer than 64 bytes");
  }
  auto core = std::make_shared<Core>();
  std::string loader = cfg->loaderString();
  TSS2_RC rc = Tss2_TctiLdr_Initialize(loader.c_str(), &core->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    Error e = tssError("Tss2_TctiLdr_Initialize(" + loader + ")", rc);
    // The loader folds "cannot connect" into a generic failure: for a network TCTI
    // or a device that is absent, the TPM is simply not reachable.
    return std::unexpected(Error(ErrorCode::kUnavailable, e.message(), e.context()));
  }
  rc = Esys_Initialize(&core->ctx, core->tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_Initialize", rc));
  if (cfg->kind == TctiKind::kMssim) {
    // The reference simulator comes up without TPM2_Startup; a started TPM answers
    // TPM_RC_INITIALIZE, which is fine. Devices and swtpm are started by firmware/flags.
    rc = Esys_Startup(core->ctx, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
      return std::unexpected(tssError("Esys_Startup", rc));
    }
  }
  if (!options.endorsement_auth.empty()) {
    TPM2B_AUTH auth{};
    auth.size = static_cast<UINT16>(options.endorsement_auth.size());
    std::memcpy(auth.buffer, options.endorsement_auth.data(), auth.size);
    rc = Esys_TR_SetAuth(core->ctx, ESYS_TR_RH_ENDORSEMENT, &auth);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_TR_SetAuth", rc));
  }
  // First real command: proves the TPM answers and sizes NV reads (Part 2 §6.13).
  auto nv_max = readFixedProperty(core->ctx, TPM2_PT_NV_BUFFER_MAX);
  if (!nv_max) return std::unexpected(nv_max.error());
  if (*nv_max > 0) core->nv_buffer_max = std::min<std::uint32_t>(*nv_max, TPM2_MAX_NV_BUFFER_SIZE);
  return std::unique_ptr<EsysTpm>(new EsysTpm(std::move(core)));
}

Result<void> EsysTpm::checkOwned(const TpmObject& object, std::string_view what) const {
  if (!object.ownedBy(core_.get())) {
    return fail(ErrorCode::kInvalidArgument,
                std::string(what) + " is empty or was loaded through another Tpm");
  }
  return {};
}

Result<Bytes> EsysTpm::readEkCertificate(EkType type) {
  auto cert = readNv(ekCertNvIndex(type));
  if (!cert)
    return std::unexpected(
        cert.error().within(std::string("EK certificate ") + std::string(ekTypeName(type))));
  return cert;
}

Result<Bytes> EsysTpm::readNv(std::uint32_t nv_index) {
  ESYS_CONTEXT* ctx = core_->ctx;
  char idx[16];
  std::snprintf(idx, sizeof idx, "0x%08x", nv_index);
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
  if (rc != TSS2_RC_SUCCESS) {
    if (esys::isHandleError(rc)) return fail(ErrorCode::kNotFound, "NV index not defined", idx);
    return std::unexpected(tssError("Esys_TR_FromTPMPublic", rc).within(idx));
  }
  esys::ScopedNvHandle nv(ctx, tr);
  TPM2B_NV_PUBLIC* pub_raw = nullptr;
  rc = Esys_NV_ReadPublic(ctx, nv.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub_raw,
                          nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> pub(pub_raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_NV_ReadPublic", rc).within(idx));
  const std::uint16_t size = pub->nvPublic.dataSize;
  // EK certificate indices carry AUTHREAD and OWNERREAD (EK Credential Profile
  // §2.2.1.4); prefer the index's own empty auth, fall back to the owner.
  const ESYS_TR auth = (pub->nvPublic.attributes & TPMA_NV_AUTHREAD) ? nv.get() : ESYS_TR_RH_OWNER;
  Bytes out;
  out.reserve(size);
  while (out.size() < size) {
    auto chunk =
        static_cast<UINT16>(std::min<std::size_t>(size - out.size(), core_->nv_buffer_max));
    TPM2B_MAX_NV_BUFFER* data_raw = nullptr;
    rc = Esys_NV_Read(ctx, auth, nv.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, chunk,
                      static_cast<UINT16>(out.size()), &data_raw);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(data_raw);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_NV_Read", rc).within(idx));
    if (data->size != chunk) {
      return fail(ErrorCode::kTpm, "NV read returned a short chunk", idx);
    }
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  return out;
}

Result<Bytes> EsysTpm::getRandom(std::size_t count) {
  if (count > 4096) return fail(ErrorCode::kInvalidArgument, "getRandom: at most 4096 bytes");
  Bytes out;
  out.reserve(count);
  while (out.size() < count) {
    // TPM2_GetRandom returns at most one digest's worth per call (Part 3 §16.1).
    auto want = static_cast<UINT16>(std::min<std::size_t>(count - out.size(), 32));
    TPM2B_DIGEST* raw = nullptr;
    TSS2_RC rc = Esys_GetRandom(core_->ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, want, &raw);
    EsysPtr<TPM2B_DIGEST> rnd(raw);
    if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_GetRandom", rc));
    if (rnd->size == 0)
      return fail(ErrorCode::kTpm, "TPM returned no random bytes", "Esys_GetRandom");
    out.insert(out.end(), rnd->buffer, rnd->buffer + std::min<std::size_t>(rnd->size, want));
  }
  return out;
}

Result<TpmClock> EsysTpm::readClock() {
  TPMS_TIME_INFO* raw = nullptr;
  TSS2_RC rc = Esys_ReadClock(core_->ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw);
  EsysPtr<TPMS_TIME_INFO> info(raw);
  if (rc != TSS2_RC_SUCCESS) return std::unexpected(tssError("Esys_ReadClock", rc));
  TpmClock clock;
  clock.time = info->time;
  clock.clock = info->clockInfo.clock;
  clock.reset_count = info->clockInfo.resetCount;
  clock.restart_count = info->clockInfo.restartCount;
  clock.safe = info->clockInfo.safe == TPM2_YES;
  return clock;
}

}  // namespace bulwark::attest
