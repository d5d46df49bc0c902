#include "server/verifier/soft_agent.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "attest/cel/cel_record.h"
#include "attest/core/digest.h"
#include "attest/quote/marshal.h"
#include "attest/quote/qualifying_data.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::server {

namespace {

constexpr std::uint32_t kPcr = 15;

std::string str(ByteView b) { return std::string(b.begin(), b.end()); }

Result<Bytes> rsaModulus(EVP_PKEY* key) {
  BIGNUM* n = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1)
    return fail(ErrorCode::kCrypto, "RSA modulus: " + attest::opensslErrors());
  Bytes out(256);
  int len = BN_bn2binpad(n, out.data(), static_cast<int>(out.size()));
  BN_free(n);
  if (len != 256) return fail(ErrorCode::kCrypto, "RSA modulus is not 2048 bits");
  return out;
}

Result<Bytes> ecPoint(EVP_PKEY* key, const char* param) {
  BIGNUM* v = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &v) != 1)
    return fail(ErrorCode::kCrypto, "EC point: " + attest::opensslErrors());
  Bytes out(32);
  int len = BN_bn2binpad(v, out.data(), static_cast<int>(out.size()));
  BN_free(v);
  if (len != 32) return fail(ErrorCode::kCrypto, "EC coordinate is not 32 bytes");
  return out;
}

// A restricted signing key as `tpm2_createak -G rsa -s rsassa` / `-G ecc -s ecdsa` makes
// (TPM 2.0 Part 2 §12.2.3.5 / §12.2.3.6 parameters).
Result<Bytes> akPublicArea(SoftAkType type, EVP_PKEY* key) {
  TPM2B_PUBLIC pub{};
  TPMT_PUBLIC& p = pub.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if (type == SoftAkType::kRsa2048) {
    auto modulus = rsaModulus(key);
    if (!modulus) return std::unexpected(modulus.error());
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.rsaDetail.keyBits = 2048;
    p.unique.rsa.size = static_cast<UINT16>(modulus->size());
    std::memcpy(p.unique.rsa.buffer, modulus->data(), modulus->size());
  } else {
    auto x = ecPoint(key, OSSL_PKEY_PARAM_EC_PUB_X);
    auto y = ecPoint(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) return fail(ErrorCode::kCrypto, "EC public point");
    p.type = TPM2_ALG_ECC;
    p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    p.unique.ecc.x.size = 32;
    std::memcpy(p.unique.ecc.x.buffer, x->data(), 32);
    p.unique.ecc.y.size = 32;
    std::memcpy(p.unique.ecc.y.buffer, y->data(), 32);
  }
  Bytes out(sizeof(TPM2B_PUBLIC));
  size_t offset = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS)
    return fail(ErrorCode::kInternal, "marshal TPM2B_PUBLIC");
  out.resize(offset);
  return out;
}

}  // namespace

Result<SoftAgent> SoftAgent::create(std::string node, SoftAkType type) {
  EVP_PKEY* raw = type == SoftAkType::kRsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (raw == nullptr) return fail(ErrorCode::kCrypto, "AK keygen: " + attest::opensslErrors());
  SoftAgent a;
  a.node_ = std::move(node);
  a.type_ = type;
  a.key_ = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
  auto pub = akPublicArea(type, raw);
  if (!pub) return std::unexpected(pub.error());
  a.ak_public_ = std::move(*pub);
  auto parsed = attest::parseTpm2bPublic(a.ak_public_);
  if (!parsed) return std::unexpected(parsed.error());
  a.ak_name_ = attest::objectName(*parsed);
  a.startLog();
  return a;
}

void SoftAgent::startLog() {
  // boot_id: 32 lower-case hex digits, like /proc/sys/kernel/random/boot_id without dashes.
  std::string boot_id = toHex(sha256(asBytes(node_ + "/" + std::to_string(reset_count_)))).substr(0, 32);
  auto canon = attest::canonicalContent(attest::makeLogStartContent(boot_id));
  cel_ = attest::formatCelRecord(kPcr, {}, attest::kBulwarkContentType, canon ? *canon : "{}");
  records_ = 1;
  cursor_offset_ = cursor_entries_ = 0;
}

Result<void> SoftAgent::measure(std::span<const attest::BatchEntry> batch) {
  nlohmann::json content = attest::makeBatchContent(batch);
  constexpr HashAlg kBanks[] = {HashAlg::kSha256};
  auto digests = attest::bulwarkDigests(content, kBanks);
  if (!digests) return std::unexpected(digests.error());
  auto canon = attest::canonicalContent(content);
  if (!canon) return std::unexpected(canon.error());
  pcr15_ = pcrExtend(HashAlg::kSha256, pcr15_, (*digests)[0].value);
  cel_ += attest::formatCelRecord(kPcr, *digests, attest::kBulwarkContentType, *canon);
  ++records_;
  measured_.insert(measured_.end(), batch.begin(), batch.end());
  return {};
}

Result<Bytes> SoftAgent::sign(ByteView message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return fail(ErrorCode::kCrypto, "EVP_MD_CTX_new");
  Bytes sig(512);
  size_t len = sig.size();
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return fail(ErrorCode::kCrypto, "AK sign: " + attest::opensslErrors());
  sig.resize(len);
  return sig;
}

// TPMT_SIGNATURE (Part 2 §11.3.4): RSASSA carries the PKCS#1 signature, ECDSA r and s
// as 32-byte big-endian integers (OpenSSL gives DER).
Result<Bytes> SoftAgent::signature(ByteView attest_bytes) const {
  auto sig = sign(attest_bytes);
  if (!sig) return std::unexpected(sig.error());
  TPMT_SIGNATURE s{};
  if (type_ == SoftAkType::kRsa2048) {
    s.sigAlg = TPM2_ALG_RSASSA;
    s.signature.rsassa.hash = TPM2_ALG_SHA256;
    s.signature.rsassa.sig.size = static_cast<UINT16>(sig->size());
    std::memcpy(s.signature.rsassa.sig.buffer, sig->data(), sig->size());
  } else {
    const unsigned char* p = sig->data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig->size()));
    if (es == nullptr) return fail(ErrorCode::kCrypto, "ECDSA signature DER");
    s.sigAlg = TPM2_ALG_ECDSA;
    s.signature.ecdsa.hash = TPM2_ALG_SHA256;
    s.signature.ecdsa.signatureR.size = 32;
    s.signature.ecdsa.signatureS.size = 32;
    BN_bn2binpad(ECDSA_SIG_get0_r(es), s.signature.ecdsa.signatureR.buffer, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), s.signature.ecdsa.signatureS.buffer, 32);
    ECDSA_SIG_free(es);
  }
  return attest::marshalSignature(s);
}

Result<std::string> SoftAgent::evidence(ByteView nonce, std::int64_t now_unix_ms) {
  bulwark::v1::Report r;
  r.set_schema_version(1);
  r.set_node(node_);
  r.set_nonce(str(nonce));
  r.set_created_unix_ms(now_unix_ms);
  r.mutable_host()->set_hostname(node_);
  r.mutable_host()->set_agent_version("soft-agent");
  r.set_measurement_pcr(kPcr);
  for (const auto& e : measured_) {
    if (!report_all && e.kind != "image" && e.kind != "runtime-process") continue;
    auto* m = r.add_measurements();
    m->set_kind(e.kind);
    m->set_subject(e.subject);
    m->set_sha256(str(e.sha256));
  }
  auto* log = r.add_logs();
  log->set_format(bulwark::v1::EventLog::CEL_JSON);
  log->set_source("/run/bulwark/measure.log");
  if (cursor_offset_ > 0 && cursor_offset_ <= cel_.size()) {
    log->set_offset(cursor_offset_);
    log->set_entries_before(cursor_entries_);
    log->set_content(cel_.substr(cursor_offset_));
  } else {
    log->set_content(cel_);
  }
  std::string report = r.SerializeAsString();

  // TPM 2.0 Part 2 §10.12.12 TPMS_ATTEST with TPMS_QUOTE_INFO (§10.12.4).
  TPMS_ATTEST a{};
  a.magic = TPM2_GENERATED_VALUE;
  a.type = TPM2_ST_ATTEST_QUOTE;
  a.qualifiedSigner.size = static_cast<UINT16>(ak_name_.size());
  std::memcpy(a.qualifiedSigner.name, ak_name_.data(), ak_name_.size());
  Bytes qd = attest::qualifyingData(nonce, asBytes(report));
  a.extraData.size = static_cast<UINT16>(qd.size());
  std::memcpy(a.extraData.buffer, qd.data(), qd.size());
  clock_ms_ += 1000;
  a.clockInfo.clock = clock_ms_;
  a.clockInfo.resetCount = reset_count_;
  a.clockInfo.restartCount = 0;
  a.clockInfo.safe = TPM2_YES;
  a.firmwareVersion = 0x2023;
  TPML_PCR_SELECTION& sel = a.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[kPcr / 8] = static_cast<BYTE>(1u << (kPcr % 8));
  Bytes pcr_digest = sha256(pcr15_);
  a.attested.quote.pcrDigest.size = static_cast<UINT16>(pcr_digest.size());
  std::memcpy(a.attested.quote.pcrDigest.buffer, pcr_digest.data(), pcr_digest.size());
  auto attest_bytes = attest::marshalAttest(a);
  if (!attest_bytes) return std::unexpected(attest_bytes.error());

  auto sig_bytes = signature(*attest_bytes);
  if (!sig_bytes) return std::unexpected(sig_bytes.error());

  bulwark::v1::Evidence ev;
  ev.set_report(std::move(report));
  ev.mutable_quote()->set_attest(str(*attest_bytes));
  ev.mutable_quote()->set_signature(str(*sig_bytes));
  auto* bank = ev.mutable_quote()->add_pcrs();
  bank->set_hash_alg("sha256");
  auto* v = bank->add_pcrs();
  v->set_index(kPcr);
  v->set_digest(str(pcr15_));
  return ev.SerializeAsString();
}

Result<std::string> SoftAgent::reseal(const std::string& evidence,
                                      const std::function<void(bulwark::v1::Report&)>& mutate,
                                      const std::optional<Bytes>& pcr15) const {
  bulwark::v1::Evidence ev;
  bulwark::v1::Report r;
  if (!ev.ParseFromString(evidence) || !r.ParseFromString(ev.report()) ||
      ev.quote().pcrs_size() == 0 || ev.quote().pcrs(0).pcrs_size() == 0)
    return fail(ErrorCode::kInvalidArgument, "not SoftAgent evidence");
  if (mutate) mutate(r);
  std::string report = r.SerializeAsString();
  TPMS_ATTEST a{};
  if (auto u = attest::unmarshalAttest(asBytes(ev.quote().attest()), a); !u)
    return std::unexpected(u.error());
  a.qualifiedSigner.size = static_cast<UINT16>(ak_name_.size());
  std::memcpy(a.qualifiedSigner.name, ak_name_.data(), ak_name_.size());
  Bytes qd = attest::qualifyingData(asBytes(r.nonce()), asBytes(report));
  a.extraData.size = static_cast<UINT16>(qd.size());
  std::memcpy(a.extraData.buffer, qd.data(), qd.size());
  auto* value = ev.mutable_quote()->mutable_pcrs(0)->mutable_pcrs(0);
  Bytes pcr = pcr15 ? *pcr15 : Bytes(value->digest().begin(), value->digest().end());
  value->set_digest(str(pcr));
  Bytes pcr_digest = sha256(pcr);
  a.attested.quote.pcrDigest.size = static_cast<UINT16>(pcr_digest.size());
  std::memcpy(a.attested.quote.pcrDigest.buffer, pcr_digest.data(), pcr_digest.size());
  auto attest_bytes = attest::marshalAttest(a);
  if (!attest_bytes) return std::unexpected(attest_bytes.error());
  auto sig = signature(*attest_bytes);
  if (!sig) return std::unexpected(sig.error());
  ev.set_report(std::move(report));
  ev.mutable_quote()->set_attest(str(*attest_bytes));
  ev.mutable_quote()->set_signature(str(*sig));
  return ev.SerializeAsString();
}

void SoftAgent::reboot() {
  ++reset_count_;
  clock_ms_ = 1000;
  pcr15_.assign(32, 0);
  measured_.clear();
  startLog();
}

}  // namespace bulwark::server
