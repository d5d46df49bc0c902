// The verifier's agent CA (DESIGN §3 enrollment step 5): a P-256 key (created 0600 on
// first start, like the EAR key) and a self-signed CA certificate. After a node proves
// its AK by credential activation, the CA signs the agent's PKCS#10 request into a
// short-lived TLS client certificate: CN = node name, EKU clientAuth, 128-bit random
// serial (stored with the node, so only the newest certificate of a node is accepted).
#pragma once

#include <chrono>
#include <string>

#include "attest/core/bytes.h"
#include "attest/credential/rng.h"
#include "attest/tpm_public/tpm_public.h"
#include "server/store/store_types.h"

typedef struct x509_st X509;

namespace bulwark::server {

struct IssuedCertificate {
  Bytes der;
  std::string serial_hex;  // lower-case hex, no leading zeros stripped (32 digits)
};

class AgentCa {
 public:
  // Loads key and certificate; when both files are absent, creates the key (0600,
  // exclusive) and a self-signed CA certificate valid for 10 years. Exactly one file
  // present is an error (a half-created CA must be looked at, not papered over).
  [[nodiscard]] static Result<AgentCa> loadOrCreate(const std::string& cert_path,
                                                    const std::string& key_path, Millis now);
  AgentCa(AgentCa&&) noexcept;
  AgentCa& operator=(AgentCa&&) noexcept;
  ~AgentCa();

  // Signs `csr_der` (checked with checkCsr) for `node`. The CSR's subject and
  // extensions are ignored: the CA decides every field.
  [[nodiscard]] Result<IssuedCertificate> issue(ByteView csr_der, std::string_view node,
                                                std::chrono::seconds validity, Millis now,
                                                attest::Rng& rng) const;
  const Bytes& certificateDer() const { return cert_der_; }
  bool created() const { return created_; }

 private:
  AgentCa(attest::EvpPkeyPtr key, X509* cert, Bytes der, bool created);
  attest::EvpPkeyPtr key_;
  X509* cert_ = nullptr;
  Bytes cert_der_;
  bool created_ = false;
};

// PKCS#10 DER: parses, verifies its self-signature, and accepts RSA >= 2048 bits or
// EC P-256/P-384 keys. kMalformed / kUnsupported otherwise.
[[nodiscard]] Result<void> checkCsr(ByteView csr_der);

}  // namespace bulwark::server
