#include "agent/enroll/client_key.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "attest/tpm_public/tpm_public.h"

namespace bulwark::agent {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using ReqPtr = std::unique_ptr<X509_REQ, ReqFree>;

std::unexpected<Error> cryptoError(const std::string& what, const std::string& context = {}) {
  return fail(ErrorCode::kCrypto, what + ": " + attest::opensslErrors(), context);
}

Result<attest::EvpPkeyPtr> loadKey(const std::string& path) {
  auto pem = readFile(path, 64 * 1024);
  if (!pem) return std::unexpected(pem.error());
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return cryptoError("not a PEM private key", path);
  return attest::EvpPkeyPtr(key);
}

Result<X509Ptr> parseDer(ByteView der) {
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr || p != der.data() + der.size()) {
    X509_free(cert);
    ERR_clear_error();
    return fail(ErrorCode::kMalformed, "not a DER X.509 certificate");
  }
  return X509Ptr(cert);
}

}  // namespace

Result<void> createClientKey(const std::string& path) {
  attest::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return cryptoError("P-256 key generation failed");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return cryptoError("cannot encode the client key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  Result<void> written = writeFileAtomic(
      path, ByteView(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(len)),
      0600);
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return written;
}

Result<void> checkClientKey(const std::string& path) {
  auto key = loadKey(path);
  if (!key) return std::unexpected(key.error());
  return {};
}

Result<Bytes> makeCsr(const std::string& key_path, const std::string& common_name) {
  auto key = loadKey(key_path);
  if (!key) return std::unexpected(key.error());
  ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1) return cryptoError("X509_REQ_new");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key->get()) != 1 ||
      X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) {
    return cryptoError("cannot build the certificate request");
  }
  int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return cryptoError("i2d_X509_REQ");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509_REQ(req.get(), &p);
  return der;
}

Result<std::string> certificateDerToPem(ByteView der) {
  auto cert = parseDer(der);
  if (!cert) return std::unexpected(cert.error());
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert->get()) != 1)
    return cryptoError("PEM_write_bio_X509");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<void> checkCertificateMatchesKey(ByteView cert_der, const std::string& key_path) {
  auto cert = parseDer(cert_der);
  if (!cert) return std::unexpected(cert.error());
  auto key = loadKey(key_path);
  if (!key) return std::unexpected(key.error());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::kInvalidArgument,
                "the verifier's certificate is not for this agent's client key", key_path);
  }
  return {};
}

}  // namespace bulwark::agent
