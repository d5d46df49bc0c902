// A throwaway PKI minted in the test (OpenSSL): CAs, server and client
// certificates written as PEM files into a private temp dir, removed on exit.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace bulwark::testpki {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

struct Issued {
  KeyPtr key;
  CertPtr cert;
};

inline void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error(std::string("bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

enum class Kind { kCa, kServer, kClient };

// P-256 certificate; self-signed when issuer is null. `san` e.g. "IP:127.0.0.1".
inline Issued issue(const std::string& cn, const Issued* issuer, Kind kind,
                    const char* san = nullptr) {
  Issued out{KeyPtr(EVP_EC_gen("P-256")), CertPtr(X509_new())};
  X509* c = out.cert.get();
  X509_set_version(c, 2);
  static long serial = 100;
  ASN1_INTEGER_set(X509_get_serialNumber(c), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 86400);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : c;
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(c, out.key.get());
  bool ca = kind == Kind::kCa;
  addExt(c, issuer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExt(c, issuer_cert, NID_key_usage,
         ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  addExt(c, issuer_cert, NID_subject_key_identifier, "hash");
  if (!ca)
    addExt(c, issuer_cert, NID_ext_key_usage, kind == Kind::kServer ? "serverAuth" : "clientAuth");
  if (san) addExt(c, issuer_cert, NID_subject_alt_name, san);
  X509_sign(c, issuer ? issuer->key.get() : out.key.get(), EVP_sha256());
  return out;
}

class Pki {
 public:
  Pki() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("bulwark-transport-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    Issued server_ca = issue("Test Verifier CA", nullptr, Kind::kCa);
    Issued server = issue("verifier", &server_ca, Kind::kServer, "DNS:localhost,IP:127.0.0.1");
    Issued other_name = issue("elsewhere", &server_ca, Kind::kServer, "DNS:other.example");
    Issued agent_ca = issue("Test Agent CA", nullptr, Kind::kCa);
    Issued agent = issue("node-1", &agent_ca, Kind::kClient);
    Issued rogue_ca = issue("Rogue CA", nullptr, Kind::kCa);
    write("server-ca", server_ca);
    write("server", server);
    write("other-name", other_name);
    write("agent-ca", agent_ca);
    write("agent", agent);
    write("rogue-ca", rogue_ca);
  }
  ~Pki() { std::filesystem::remove_all(dir_); }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

  std::string cert(const std::string& name) const { return (dir_ / (name + ".pem")).string(); }
  std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void write(const std::string& name, const Issued& i) {
    FILE* f = std::fopen(cert(name).c_str(), "w");
    PEM_write_X509(f, i.cert.get());
    std::fclose(f);
    f = std::fopen(key(name).c_str(), "w");
    PEM_write_PrivateKey(f, i.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  std::filesystem::path dir_;
};

}  // namespace bulwark::testpki
