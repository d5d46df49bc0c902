// Test doubles for enrollment: a fake TPM identity and a fake verifier that
// behaves like docs/api.md (challenge bound to the AK, single-use enrollment
// ids, a real X.509 client certificate issued from the agent's CSR by a CA
// minted here), with switches that lose a response after acting on it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/enroll/agent_identity.h"
#include "agent/enroll/client_key.h"
#include "agent/transport/verifier_client.h"
#include "agent/transport/verifier_error.h"

namespace bulwark::agent::testing {

inline std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }
inline Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

class FakeIdentity final : public AgentIdentity {
 public:
  explicit FakeIdentity(std::string blob_path) : blob_path_(std::move(blob_path)) {}
  int creates = 0;
  int activations = 0;
  bool fail_create = false;  // before any side effect
  bool cleared = false;      // TPM2_Clear happened: the AK blob no longer loads

  Result<IdentityMaterial> create(std::string_view ek, std::string_view ak) override {
    if (fail_create) return fail(ErrorCode::kUnavailable, "TPM not reachable", "fake");
    ++creates;
    cleared = false;
    generation_ = creates;
    std::ofstream(blob_path_) << "ak-" << generation_;
    last_ek_ = std::string(ek == "auto" ? "rsa2048" : ek);
    last_ak_ = std::string(ak == "auto" ? "rsa2048" : ak);
    return material();
  }
  Result<IdentityMaterial> load() override {
    if (cleared) return fail(ErrorCode::kTpm, "TPM_RC_INTEGRITY", "Esys_Load");
    if (generation_ == 0) return fail(ErrorCode::kNotFound, "no AK blob");
    return material();
  }
  Result<Bytes> activate(ByteView blob, ByteView secret) override {
    ++activations;
    if (str(Bytes(blob.begin(), blob.end())) != akPublic()) {
      return fail(ErrorCode::kTpm, "TPM_RC_INTEGRITY: credential not for this AK",
                  "Esys_ActivateCredential");
    }
    return Bytes(secret.begin(), secret.end());
  }
  std::string akPublic() const { return "ak-public-" + std::to_string(generation_); }

 private:
  IdentityMaterial material() const {
    return {last_ek_, last_ak_, bytes("ek-cert-der"), bytes("ek-public"), bytes(akPublic())};
  }
  std::string blob_path_;
  int generation_ = 0;
  std::string last_ek_, last_ak_;
};

// Issues certificates from CSRs with a CA key made per instance.
class TestIssuer {
 public:
  TestIssuer() : ca_key_(EVP_EC_gen("P-256"), EVP_PKEY_free) {}
  // DER certificate for the CSR's key, or "" when the CSR is invalid.
  std::string issue(const std::string& csr_der, const std::string& cn) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(csr_der.data());
    std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(
        d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())), X509_REQ_free);
    if (!req) return {};
    EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
    if (pub == nullptr || X509_REQ_verify(req.get(), pub) != 1) return {};
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), pub);
    X509_sign(cert.get(), ca_key_.get(), EVP_sha256());
    int len = i2d_X509(cert.get(), nullptr);
    std::string der(static_cast<std::size_t>(len), '\0');
    unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(cert.get(), &out);
    return der;
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key_;
  long serial_ = 0;
};

inline Error serverError(int status, const std::string& code, const std::string& what) {
  bulwark::v1::ErrorBody body;
  body.set_error(code);
  body.set_detail("fake verifier says " + code);
  return verifierError(what, {status, "application/x-protobuf", body.SerializeAsString()});
}

class FakeEnrollVerifier final : public VerifierClient {
 public:
  int enroll_calls = 0;
  int activate_calls = 0;
  bool lose_next_enroll = false;  // act, then fail as if the answer was lost
  bool lose_next_activate = false;
  std::string result_state = "trusted-pending-attestation";
  std::string pcr_bank = "sha256";
  std::optional<Error> enroll_error;  // refuse enroll with this error
  bool bad_certificate = false;       // answer with a certificate for another key
  std::int64_t challenge_ttl_ms = 300000;
  std::function<std::int64_t()> now;
  bulwark::v1::EnrollRequest last_enroll;
  bulwark::v1::ActivateRequest last_activate;

  Result<bulwark::v1::EnrollChallenge> enroll(const bulwark::v1::EnrollRequest& r) override {
    ++enroll_calls;
    last_enroll = r;
    if (enroll_error) return std::unexpected(*enroll_error);
    std::string id = "enr-" + std::to_string(enroll_calls);
    pending_[id] = {r.ak_public(), "secret-" + id, r.csr(), r.node()};
    bulwark::v1::EnrollChallenge c;
    c.set_enrollment_id(id);
    c.set_credential_blob(r.ak_public());  // "made for" this AK
    c.set_encrypted_secret(pending_[id].secret);
    c.set_expires_unix_ms(now() + challenge_ttl_ms);
    if (lose_next_enroll) {
      lose_next_enroll = false;
      return fail(ErrorCode::kUnavailable, "connection reset", "read response");
    }
    return c;
  }

  Result<bulwark::v1::EnrollResult> activate(const bulwark::v1::ActivateRequest& r) override {
    ++activate_calls;
    last_activate = r;
    auto it = pending_.find(r.enrollment_id());
    if (it == pending_.end())
      return std::unexpected(serverError(404, "enrollment-unknown", "POST /v1/enroll/activate"));
    Pending p = it->second;
    if (r.secret() != p.secret || r.csr() != p.csr) {
      return std::unexpected(serverError(403, "activation-failed", "POST /v1/enroll/activate"));
    }
    pending_.erase(it);  // single use
    bulwark::v1::EnrollResult res;
    res.set_node(p.node);
    res.set_state(result_state);
    std::string csr = p.csr;
    if (bad_certificate) csr = otherCsr();
    res.set_client_certificate(issuer_.issue(csr, p.node));
    res.add_ca_chain(issuer_.issue(p.csr, "agent-ca"));
    res.set_nonce("first-nonce-" + r.enrollment_id());
    res.set_nonce_expires_unix_ms(now() + 120000);
    res.set_pcr_bank(pcr_bank);
    for (std::uint32_t i : {0u, 7u, 15u}) res.add_pcr_selection(i);
    if (lose_next_activate) {
      lose_next_activate = false;
      return fail(ErrorCode::kUnavailable, "connection reset", "read response");
    }
    return res;
  }

  Result<bulwark::v1::NonceResponse> nonce() override {
    return fail(ErrorCode::kInternal, "unused");
  }
  Result<bulwark::v1::AttestResponse> attest(const bulwark::v1::Evidence&) override {
    return fail(ErrorCode::kInternal, "unused");
  }

 private:
  struct Pending {
    std::string ak_public, secret, csr, node;
  };
  // A CSR for a key that is not the agent's.
  static std::string otherCsr() {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("bulwark-other-" + std::to_string(::getpid()) + ".key"))
                           .string();
    std::string out;
    if (createClientKey(path)) {
      if (auto csr = makeCsr(path, "other")) out = str(*csr);
    }
    std::filesystem::remove(path);
    return out;
  }
  std::map<std::string, Pending> pending_;
  TestIssuer issuer_;
};

}  // namespace bulwark::agent::testing
