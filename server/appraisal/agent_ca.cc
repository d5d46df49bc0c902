#include "server/appraisal/agent_ca.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <memory>

#include "attest/ear/verifier_key.h"

namespace bulwark::server {

namespace {
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using ReqPtr = std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)>;

std::unexpected<Error> sslFail(const std::string& what) {
  return fail(ErrorCode::kCrypto, what + ": " + attest::opensslErrors());
}

std::time_t toTime(Millis ms) { return static_cast<std::time_t>(ms / 1000); }

// 128 random bits, top bit clear (positive INTEGER) and second bit set (no leading
// zero byte), so every serial is exactly 16 bytes (RFC 5280 §4.1.2.2 allows 20).
Result<void> setRandomSerial(X509* x, attest::Rng& rng) {
  std::array<std::uint8_t, 16> b{};
  if (auto r = rng.fill(b); !r) return r;
  b[0] = static_cast<std::uint8_t>((b[0] & 0x7f) | 0x40);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(b.data(), b.size(), nullptr), &BN_free);
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) == nullptr)
    return sslFail("serial");
  return {};
}

std::string serialHex(const X509* x) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr), &BN_free);
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<void> addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return sslFail(std::string("extension ") + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return sslFail("X509_add_ext");
  return {};
}

Result<void> setValidity(X509* x, Millis from, Millis to) {
  if (ASN1_TIME_set(X509_getm_notBefore(x), toTime(from)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), toTime(to)) == nullptr) {
    return sslFail("validity");
  }
  return {};
}

Result<void> setCn(X509_NAME* name, std::string_view cn) {
  std::string v(cn);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1,
                                 0) != 1) {
    return sslFail("subject");
  }
  return {};
}

Bytes toDer(X509* x) {
  int len = i2d_X509(x, nullptr);
  if (len <= 0) return {};
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_X509(x, &p);
  return out;
}

Result<X509Ptr> selfSigned(EVP_PKEY* key, Millis now) {
  X509Ptr x(X509_new(), &X509_free);
  if (!x || X509_set_version(x.get(), 2) != 1) return sslFail("X509_new");
  if (auto r = setRandomSerial(x.get(), attest::defaultRng()); !r)
    return std::unexpected(r.error());
  constexpr Millis kTenYears = Millis{10} * 365 * 86400 * 1000;
  if (auto r = setValidity(x.get(), now - 3600 * 1000, now + kTenYears); !r)
    return std::unexpected(r.error());
  if (auto r = setCn(X509_get_subject_name(x.get()), "Bulwark agent CA"); !r)
    return std::unexpected(r.error());
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) != 1 ||
      X509_set_pubkey(x.get(), key) != 1) {
    return sslFail("CA certificate");
  }
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto r = addExt(x.get(), x.get(), nid, value); !r) return std::unexpected(r.error());
  }
  if (X509_sign(x.get(), key, EVP_sha256()) <= 0) return sslFail("X509_sign");
  return x;
}

Result<X509Ptr> readPemCert(const std::string& path) {
  auto bytes = readFile(path, 1u << 20);
  if (!bytes) return std::unexpected(bytes.error());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(bytes->data(), static_cast<int>(bytes->size())), &BIO_free);
  X509Ptr x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
  if (!x) return fail(ErrorCode::kMalformed, "not a PEM certificate", path);
  return x;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Result<ReqPtr> parseCsr(ByteView der) {
  const unsigned char* p = der.data();
  ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())), &X509_REQ_free);
  if (!req) return fail(ErrorCode::kMalformed, "not a PKCS#10 certificate request (DER)");
  if (p != der.data() + der.size())
    return fail(ErrorCode::kMalformed, "trailing bytes after the CSR");
  return req;
}
}  // namespace

Result<void> checkCsr(ByteView csr_der) {
  if (csr_der.empty() || csr_der.size() > 16384)
    return fail(ErrorCode::kMalformed, "CSR empty or over 16 KiB");
  auto req = parseCsr(csr_der);
  if (!req) return std::unexpected(req.error());
  EVP_PKEY* key = X509_REQ_get0_pubkey(req->get());
  if (key == nullptr) return fail(ErrorCode::kMalformed, "CSR has no usable public key");
  if (X509_REQ_verify(req->get(), key) != 1) {
    attest::opensslErrors();  // drain
    return fail(ErrorCode::kMalformed, "CSR self-signature does not verify");
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < 2048)
      return fail(ErrorCode::kUnsupported, "RSA CSR key below 2048 bits");
    return {};
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) == 1) {
      std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256" || g == "secp384r1" || g == "P-384") return {};
    }
    return fail(ErrorCode::kUnsupported, "EC CSR key must be on P-256 or P-384");
  }
  return fail(ErrorCode::kUnsupported, "CSR key must be RSA or EC");
}

AgentCa::AgentCa(attest::EvpPkeyPtr key, X509* cert, Bytes der, bool created)
    : key_(std::move(key)), cert_(cert), cert_der_(std::move(der)), created_(created) {}
AgentCa::AgentCa(AgentCa&& o) noexcept
    : key_(std::move(o.key_)),
      cert_(std::exchange(o.cert_, nullptr)),
      cert_der_(std::move(o.cert_der_)),
      created_(o.created_) {}
AgentCa& AgentCa::operator=(AgentCa&& o) noexcept {
  if (this != &o) {
    X509_free(cert_);
    key_ = std::move(o.key_);
    cert_ = std::exchange(o.cert_, nullptr);
    cert_der_ = std::move(o.cert_der_);
    created_ = o.created_;
  }
  return *this;
}
AgentCa::~AgentCa() { X509_free(cert_); }

Result<AgentCa> AgentCa::loadOrCreate(const std::string& cert_path, const std::string& key_path,
                                      Millis now) {
  bool has_cert = exists(cert_path), has_key = exists(key_path);
  if (has_cert != has_key) {
    return fail(ErrorCode::kInvalidArgument,
                "agent CA: " + std::string(has_cert ? "key" : "certificate") +
                    " is missing while the other file exists; restore it or remove both",
                has_cert ? key_path : cert_path);
  }
  auto key = attest::loadOrCreateVerifierKey(key_path);  // P-256, 0600, O_EXCL
  if (!key) return std::unexpected(key.error().within("agent CA key"));
  if (!has_cert) {
    auto cert = selfSigned(key->key.get(), now);
    if (!cert) return std::unexpected(cert.error());
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_X509(bio.get(), cert->get()) != 1)
      return sslFail("PEM_write_bio_X509");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    if (auto w = writeFileAtomic(
            cert_path, ByteView(reinterpret_cast<std::uint8_t*>(data), static_cast<std::size_t>(n)),
            0644);
        !w) {
      return std::unexpected(w.error().within("agent CA certificate"));
    }
  }
  auto cert = readPemCert(cert_path);
  if (!cert) return std::unexpected(cert.error());
  if (X509_check_private_key(cert->get(), key->key.get()) != 1) {
    attest::opensslErrors();
    return fail(ErrorCode::kInvalidArgument, "agent CA key does not match its certificate",
                cert_path);
  }
  Bytes der = toDer(cert->get());
  return AgentCa(std::move(key->key), cert->release(), std::move(der), !has_cert);
}

Result<IssuedCertificate> AgentCa::issue(ByteView csr_der, std::string_view node,
                                         std::chrono::seconds validity, Millis now,
                                         attest::Rng& rng) const {
  if (auto c = checkCsr(csr_der); !c) return std::unexpected(c.error());
  auto req = parseCsr(csr_der);
  if (!req) return std::unexpected(req.error());
  X509Ptr x(X509_new(), &X509_free);
  if (!x || X509_set_version(x.get(), 2) != 1) return sslFail("X509_new");
  if (auto r = setRandomSerial(x.get(), rng); !r) return std::unexpected(r.error());
  // Five minutes of back-dating tolerates agents whose clocks run slightly behind.
  if (auto r = setValidity(x.get(), now - 300 * 1000, now + validity.count() * 1000); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = setCn(X509_get_subject_name(x.get()), node); !r) return std::unexpected(r.error());
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(cert_)) != 1 ||
      X509_set_pubkey(x.get(), X509_REQ_get0_pubkey(req->get())) != 1) {
    return sslFail("client certificate");
  }
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
        std::pair{NID_key_usage, "critical,digitalSignature"},
        std::pair{NID_ext_key_usage, "clientAuth"}, std::pair{NID_subject_key_identifier, "hash"},
        std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    if (auto r = addExt(x.get(), cert_, nid, value); !r) return std::unexpected(r.error());
  }
  if (X509_sign(x.get(), key_.get(), EVP_sha256()) <= 0) return sslFail("X509_sign");
  return IssuedCertificate{toDer(x.get()), serialHex(x.get())};
}

}  // namespace bulwark::server
