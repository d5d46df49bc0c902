#include "server/http/tls_context.h"

#include <cctype>
#include <memory>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::server {

namespace {
namespace ssl = boost::asio::ssl;

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  return toHex(ByteView(md, len));
}

std::string commonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  // An embedded NUL would let "node-a\0.evil" pass as "node-a" elsewhere.
  return cn.find('\0') == std::string::npos ? cn : std::string();
}

Result<void> check(const boost::system::error_code& ec, const std::string& what,
                   const std::string& file) {
  if (!ec) return {};
  return fail(ErrorCode::kInvalidArgument, what + ": " + ec.message(), file);
}
}  // namespace

Result<std::shared_ptr<ssl::context>> makeServerTlsContext(const ServerConfig& config) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  int min = config.min_tls == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(native, min) != 1) {
    return fail(ErrorCode::kCrypto, attest::opensslErrors(), "SSL_CTX_set_min_proto_version");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2 (only when allowed): forward-secret AEAD suites only.
  SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(config.cert_file, ec);
  if (auto r = check(ec, "server certificate", config.cert_file); !r) return std::unexpected(r.error());
  ctx->use_private_key_file(config.key_file, ssl::context::pem, ec);
  if (auto r = check(ec, "server key", config.key_file); !r) return std::unexpected(r.error());
  if (SSL_CTX_check_private_key(native) != 1) {
    return fail(ErrorCode::kInvalidArgument, "server key does not match the certificate",
                config.key_file);
  }
  if (!config.client_ca_file.empty()) {
    ctx->load_verify_file(config.client_ca_file, ec);
    if (auto r = check(ec, "client CA", config.client_ca_file); !r) return std::unexpected(r.error());
    // Ask for a certificate but do not require one: people and schedulers use
    // bearer tokens; routes needing a certificate role answer 401/403.
    ctx->set_verify_mode(ssl::verify_peer, ec);
    SSL_CTX_set_verify_depth(native, 4);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
    static const unsigned char kSid[] = "bulwark-verifier";
    SSL_CTX_set_session_id_context(native, kSid, sizeof kSid - 1);
  }
  ERR_clear_error();
  return ctx;
}

std::optional<PeerCertificate> verifiedPeerCertificate(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  PeerCertificate peer;
  peer.subject_cn = commonName(cert);
  peer.sha256 = fingerprint(cert);
  // Enrollment binds a node to the serial of the certificate it issued (docs/api.md).
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      for (char* c = hex; *c != '\0'; ++c) *c = static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
      peer.serial_hex = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      peer.chain_sha256.push_back(fingerprint(sk_X509_value(chain, i)));
    }
  }
  if (peer.sha256.empty()) return std::nullopt;
  return peer;
}

Result<std::string> certificateFileSha256(const std::string& pem_path) {
  auto bytes = readFile(pem_path, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(bytes->data(), static_cast<int>(bytes->size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
  if (!cert) {
    return fail(ErrorCode::kMalformed, "not a PEM certificate: " + attest::opensslErrors(),
                pem_path);
  }
  return fingerprint(cert.get());
}

}  // namespace bulwark::server
