// Test helper: mints X.509 certificates with OpenSSL so each negative case
// (foreign CA, expired, not yet valid, wrong key, bad signature, unknown critical
// extension, ...) is one certificate made for it. EK certificates look like the
// ones swtpm_localca issues (TCG EK Credential Profile): empty subject, critical
// subjectAltName with a directoryName of TPM attributes, EKU 2.23.133.8.1,
// critical basicConstraints CA:FALSE and keyUsage.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest::testing {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using CertPtr = std::unique_ptr<X509, X509Free>;

// 2030-01-01T00:00:00Z: the fixed "now" of these tests.
inline constexpr std::time_t kNow = 1893456000;
inline constexpr std::time_t kDay = 86400;

struct Ca {
  CertPtr cert;
  EvpPkeyPtr key;
};

struct MintSpec {
  std::string subject_cn;  // empty: empty subject (typical EK certificate)
  const Ca* issuer = nullptr;  // nullptr: self-signed with `key`
  EVP_PKEY* key = nullptr;     // the certified public key (and signer if self-signed)
  bool ca = false;
  std::time_t not_before = kNow - 365 * kDay;
  std::time_t not_after = kNow + 3650 * kDay;
  bool ek_extensions = false;
  bool authority_key_id = true;
  bool unknown_critical_extension = false;
  EVP_PKEY* sign_with = nullptr;  // override the signing key (bad signature case)
};

inline EvpPkeyPtr newKey(const char* type = "EC", const char* curve = "P-256") {
  if (std::string(type) == "RSA") {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

inline void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

inline void addTcgSan(X509* cert) {
  X509_NAME* dn = X509_NAME_new();
  const std::pair<const char*, const char*> attrs[] = {
      {"2.23.133.2.1", "id:00001014"}, {"2.23.133.2.2", "swtpm"}, {"2.23.133.2.3", "id:20191023"}};
  for (const auto& [oid, value] : attrs) {
    X509_NAME_add_entry_by_txt(dn, oid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value),
                               -1, -1, 0);
  }
  GENERAL_NAME* gn = GENERAL_NAME_new();
  GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
  GENERAL_NAMES* names = GENERAL_NAMES_new();
  sk_GENERAL_NAME_push(names, gn);
  X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 1, 0);
  GENERAL_NAMES_free(names);
}

inline void addUnknownCritical(X509* cert) {
  ASN1_OBJECT* obj = OBJ_txt2obj("1.3.6.1.4.1.99999.42", 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  const unsigned char der_null[] = {0x05, 0x00};
  ASN1_OCTET_STRING_set(data, der_null, sizeof der_null);
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 1, data);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

inline CertPtr mint(const MintSpec& s) {
  static long serial = 1;
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!s.subject_cn.empty()) {
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(s.subject_cn.c_str()), -1,
                               -1, 0);
  }
  X509* issuer_cert = s.issuer ? s.issuer->cert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), s.not_before);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), s.not_after);
  X509_set_pubkey(cert.get(), s.key);
  if (s.ca) {
    addExt(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    addExt(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (!s.ek_extensions) addExt(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  if (s.ek_extensions) {
    addExt(cert.get(), issuer_cert, NID_ext_key_usage, "2.23.133.8.1");
    addTcgSan(cert.get());
    addExt(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    addExt(cert.get(), issuer_cert, NID_key_usage,
           EVP_PKEY_is_a(s.key, "RSA") ? "critical,keyEncipherment" : "critical,keyAgreement");
  }
  if (s.authority_key_id && s.issuer) {
    addExt(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  }
  if (s.unknown_critical_extension) addUnknownCritical(cert.get());
  EVP_PKEY* signer = s.sign_with ? s.sign_with : (s.issuer ? s.issuer->key.get() : s.key);
  EXPECT_GT(X509_sign(cert.get(), signer, EVP_sha256()), 0);
  return cert;
}

inline Ca makeRoot(const std::string& cn, std::time_t not_after = kNow + 7300 * kDay) {
  Ca ca{nullptr, newKey("EC", "P-384")};
  MintSpec s;
  s.subject_cn = cn;
  s.key = ca.key.get();
  s.ca = true;
  s.not_after = not_after;
  ca.cert = mint(s);
  return ca;
}

inline Ca makeIntermediate(const std::string& cn, const Ca& root, bool is_ca = true,
                           std::time_t not_after = kNow + 7300 * kDay) {
  Ca ca{nullptr, newKey()};
  MintSpec s;
  s.subject_cn = cn;
  s.issuer = &root;
  s.key = ca.key.get();
  s.ca = is_ca;
  s.not_after = not_after;
  ca.cert = mint(s);
  return ca;
}

inline Bytes der(X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  Bytes out(buf, buf + (len > 0 ? len : 0));
  OPENSSL_free(buf);
  return out;
}

inline Bytes pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  Bytes out(data, data + len);
  BIO_free(bio);
  return out;
}

}  // namespace bulwark::attest::testing
