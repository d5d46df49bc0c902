#include "attest/ekcert/ek_cert.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <string_view>

#include "attest/ekcert/x509_util.h"

namespace bulwark::attest {

using ekcert_detail::X509Ptr;

bool EkCertVerdict::has(std::string_view code) const {
  return std::any_of(reasons.begin(), reasons.end(), [&](const auto& r) { return r.code == code; });
}

namespace {

Result<X509Ptr> parseOne(ByteView bytes) {
  auto certs = ekcert_detail::parseCertificates(bytes);
  if (!certs) return std::unexpected(certs.error().within("EK certificate"));
  if (certs->size() != 1) {
    return fail(ErrorCode::kMalformed,
                "expected one EK certificate, found " + std::to_string(certs->size()));
  }
  return std::move(certs->front());
}

std::string nameString(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data != nullptr && len > 0 ? std::string(data, static_cast<std::size_t>(len))
                                             : std::string());
  BIO_free(bio);
  return out;
}

std::string oidText(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return n > 0 ? std::string(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1))
               : std::string("?");
}

std::chrono::sys_seconds timeOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::sys_seconds(std::chrono::seconds(::timegm(&tm)));
}

std::string asn1String(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

// TCG EK Credential Profile (subject alternative name): the TPM manufacturer, model and firmware
// version sit in a directoryName of the subjectAltName (which is critical when the
// subject is empty, RFC 5280 §4.2.1.6).
void readTpmAttributes(X509* cert, EkCertInfo& info) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_DIRNAME) continue;
    const X509_NAME* dn = gn->d.directoryName;
    for (int j = 0; j < X509_NAME_entry_count(dn); ++j) {
      const X509_NAME_ENTRY* e = X509_NAME_get_entry(dn, j);
      std::string oid = oidText(X509_NAME_ENTRY_get_object(e));
      std::string value = asn1String(X509_NAME_ENTRY_get_data(e));
      if (oid == "2.23.133.2.1") info.tpm_manufacturer = value;
      if (oid == "2.23.133.2.2") info.tpm_model = value;
      if (oid == "2.23.133.2.3") info.tpm_version = value;
    }
  }
  GENERAL_NAMES_free(names);
}

EkCertInfo describe(X509* cert) {
  EkCertInfo info;
  info.subject = nameString(X509_get_subject_name(cert));
  info.issuer = nameString(X509_get_issuer_name(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* h = BN_bn2hex(bn)) {
      info.serial_hex = h;
      OPENSSL_free(h);
    }
    BN_free(bn);
  }
  info.not_before = timeOf(X509_get0_notBefore(cert));
  info.not_after = timeOf(X509_get0_notAfter(cert));
  readTpmAttributes(cert, info);
  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    if (X509_EXTENSION_get_critical(ext) > 0) {
      info.critical_extensions.push_back(oidText(X509_EXTENSION_get_object(ext)));
    }
  }
  ERR_clear_error();
  return info;
}

const char* reasonCode(int err) {
  switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return kEkCertUntrustedIssuer;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return kEkCertExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return kEkCertNotYetValid;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return kEkCertSignatureInvalid;
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return kEkCertUnhandledCritical;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return kEkCertIssuerNotCa;
    default:
      return kEkCertChainInvalid;
  }
}

void addReason(std::vector<EkCertReason>& reasons, std::string code, std::string detail) {
  for (const auto& r : reasons) {
    if (r.code == code) return;  // one entry per code; the first occurrence is the most specific
  }
  reasons.push_back({std::move(code), std::move(detail)});
}

// Records every problem OpenSSL finds and lets verification continue, so one
// verdict lists all of them (an expired certificate from a foreign CA shows both).
// Continuing is safe because trust is decided from the recorded list, never from
// X509_verify_cert's return value alone.
int collectErrors(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  auto* reasons = static_cast<std::vector<EkCertReason>*>(X509_STORE_CTX_get_ex_data(ctx, 0));
  if (reasons == nullptr) return 0;
  int err = X509_STORE_CTX_get_error(ctx);
  std::string detail = "depth " + std::to_string(X509_STORE_CTX_get_error_depth(ctx));
  if (X509* cur = X509_STORE_CTX_get_current_cert(ctx)) {
    detail += " (subject \"" + nameString(X509_get_subject_name(cur)) + "\", issuer \"" +
              nameString(X509_get_issuer_name(cur)) + "\")";
  }
  detail += ": ";
  detail += X509_verify_cert_error_string(err);
  addReason(*reasons, reasonCode(err), std::move(detail));
  return 1;
}

struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};

Result<void> verifyChain(X509* leaf, const CaStore& store,
                         std::chrono::system_clock::time_point now, EkCertVerdict& verdict) {
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (!ctx || store.anchors() == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store.anchors(), leaf, store.intermediates()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  // Anchors are exactly what the operator configured as trusted, self-signed or not.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_ex_data(ctx.get(), 0, &verdict.reasons);
  X509_STORE_CTX_set_verify_cb(ctx.get(), collectErrors);
  int rc = X509_verify_cert(ctx.get());
  if (rc != 1 && verdict.reasons.empty()) {  // fail closed: a failure always has a reason
    addReason(verdict.reasons, kEkCertChainInvalid,
              std::string("chain verification failed: ") +
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  if (STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get())) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      verdict.chain.push_back(nameString(X509_get_subject_name(sk_X509_value(chain, i))));
    }
  }
  ERR_clear_error();
  return {};
}

}  // namespace

Result<EkCertInfo> inspectEkCertificate(ByteView cert) {
  auto leaf = parseOne(cert);
  if (!leaf) return std::unexpected(leaf.error());
  return describe(leaf->get());
}

Result<EkCertVerdict> validateEkCertificate(ByteView cert, const TpmPublic& ek,
                                            const CaStore& store,
                                            std::chrono::system_clock::time_point now) {
  auto leaf = parseOne(cert);
  if (!leaf) return std::unexpected(leaf.error());
  EVP_PKEY* cert_key = X509_get0_pubkey(leaf->get());
  if (cert_key == nullptr) {
    ERR_clear_error();
    return fail(ErrorCode::kUnsupported, "EK certificate public key cannot be decoded",
                "EK certificate");
  }
  auto ek_key = toEvpPkey(ek);
  if (!ek_key) return std::unexpected(ek_key.error().within("EK public"));

  EkCertVerdict verdict;
  verdict.info = describe(leaf->get());
  if (auto v = verifyChain(leaf->get(), store, now, verdict); !v) return std::unexpected(v.error());
  if (EVP_PKEY_eq(cert_key, ek_key->get()) != 1) {
    addReason(verdict.reasons, kEkCertKeyMismatch,
              "the certificate's public key is not the EK public key the TPM reported");
  }
  ERR_clear_error();
  return verdict;
}

}  // namespace bulwark::attest
