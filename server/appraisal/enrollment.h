// Enrollment (DESIGN §3 "Enrollment", docs/api.md, docs/enrollment.md):
//   enroll():   EK certificate chain vs the CA store, EK public == certificate key, AK
//               attributes, CSR; MakeCredential(EK, AK name, 32-byte secret) in
//               software; a pending enrollment that stores only SHA-256(secret).
//   activate(): constant-time comparison of the activation proof (bounded attempts),
//               node bound to the EK/AK, client certificate from the CSR, first nonce.
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "attest/credential/rng.h"
#include "attest/ekcert/ca_store.h"
#include "bulwark/v1/enrollment.pb.h"
#include "server/appraisal/agent_ca.h"
#include "server/appraisal/api_error.h"
#include "server/appraisal/appraiser.h"

namespace bulwark::server {

struct EnrollmentOptions {
  bool auto_approve = false;
  std::chrono::seconds ttl{300};
  int max_attempts = 3;
  std::chrono::seconds cert_validity{30 * 86400};
};

class EnrollmentService {
 public:
  EnrollmentService(Store& store, const attest::CaStore& ek_cas, const AgentCa& agent_ca,
                    Appraiser& appraiser, EnrollmentOptions options, NowFn now, attest::Rng& rng);

  [[nodiscard]] ApiResult<bulwark::v1::EnrollChallenge> enroll(
      const bulwark::v1::EnrollRequest& req);
  // `path_id`: the id from /v1/enroll/{id}/activate, used when the body has none.
  [[nodiscard]] ApiResult<bulwark::v1::EnrollResult> activate(
      const bulwark::v1::ActivateRequest& req, std::string_view path_id = {});

 private:
  ApiResult<void> checkExisting(const std::string& node, const Bytes& ek_tpmt);
  ApiResult<Bytes> csrFor(const std::string& id, const std::string& resent);
  void rememberCsr(const std::string& id, const std::string& csr, Millis expires);

  Store& store_;
  const attest::CaStore& ek_cas_;
  const AgentCa& agent_ca_;
  Appraiser& appraiser_;
  EnrollmentOptions options_;
  NowFn now_;
  attest::Rng& rng_;

  std::mutex mu_;
  struct PendingCsr {
    std::string csr;
    Millis expires = 0;
  };
  std::map<std::string, PendingCsr> csrs_;  // enrollment id → CSR (this replica)
};

}  // namespace bulwark::server
