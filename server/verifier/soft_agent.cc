#include "server/verifier/soft_agent.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
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

// A restricted RSASSA-SHA256 signing key, as `tpm2_createak -G rsa -s rsassa` makes.
Result<Bytes> akPublicArea(ByteView modulus) {
  TPM2B_PUBLIC pub{};
  TPMT_PUBLIC& p = pub.publicArea;
  p.type = TPM2_ALG_RSA;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
  p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.rsaDetail.keyBits = 2048;
  p.unique.rsa.size = static_cast<UINT16>(modulus.size());
  std::memcpy(p.unique.rsa.buffer, modulus.data(), modulus.size());
  Bytes out(sizeof(TPM2B_PUBLIC));
  size_t offset = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS)
    return fail(ErrorCode::kInternal, "marshal TPM2B_PUBLIC");
  out.resize(offset);
  return out;
}

}  // namespace

Result<SoftAgent> SoftAgent::create(std::string node) {
  EVP_PKEY* raw = EVP_RSA_gen(2048);
  if (raw == nullptr) return fail(ErrorCode::kCrypto, "RSA keygen: " + attest::opensslErrors());
  SoftAgent a;
  a.node_ = std::move(node);
  a.key_ = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
  auto n = rsaModulus(raw);
  if (!n) return std::unexpected(n.error());
  auto pub = akPublicArea(*n);
  if (!pub) return std::unexpected(pub.error());
  a.ak_public_ = std::move(*pub);
  auto parsed = attest::parseTpm2bPublic(a.ak_public_);
  if (!parsed) return std::unexpected(parsed.error());
  a.ak_name_ = attest::objectName(*parsed);
  return a;
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
  Bytes sig(256);
  size_t len = sig.size();
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 256) return fail(ErrorCode::kCrypto, "RSA sign: " + attest::opensslErrors());
  return sig;
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
    auto* m = r.add_measurements();
    m->set_kind(e.kind);
    m->set_subject(e.subject);
    m->set_sha256(str(e.sha256));
  }
  auto* log = r.add_logs();
  log->set_format(bulwark::v1::EventLog::CEL_JSON);
  log->set_source("/run/bulwark/measure.log");
  log->set_content(cel_);
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

  auto sig = sign(*attest_bytes);
  if (!sig) return std::unexpected(sig.error());
  TPMT_SIGNATURE s{};
  s.sigAlg = TPM2_ALG_RSASSA;
  s.signature.rsassa.hash = TPM2_ALG_SHA256;
  s.signature.rsassa.sig.size = static_cast<UINT16>(sig->size());
  std::memcpy(s.signature.rsassa.sig.buffer, sig->data(), sig->size());
  auto sig_bytes = attest::marshalSignature(s);
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

void SoftAgent::reboot() {
  ++reset_count_;
  clock_ms_ = 1000;
  pcr15_.assign(32, 0);
  cel_.clear();
  records_ = 0;
  measured_.clear();
}

}  // namespace bulwark::server
