// The agent's view of the verifier (bulwark.v1 over HTTPS, docs/api.md): four
// calls, typed messages in and out. The enrollment and attestation logic depend
// only on this interface; HttpVerifierClient is the real one, tests use fakes.
//
// Errors: a non-2xx answer is an Error whose message carries the verifier's error
// code (verifier_error.h: verifierErrorCode(), isNonceError()); a transport
// failure is kUnavailable; a 2xx answer that does not parse is kMalformed.
#pragma once

#include "attest/core/error.h"
#include "bulwark/v1/enrollment.pb.h"
#include "bulwark/v1/evidence.pb.h"

namespace bulwark::agent {

class VerifierClient {
 public:
  virtual ~VerifierClient() = default;
  // POST /v1/enroll (no client certificate): EK cert, EK and AK public, CSR →
  // a credential challenge for TPM2_ActivateCredential.
  [[nodiscard]] virtual Result<bulwark::v1::EnrollChallenge> enroll(
      const bulwark::v1::EnrollRequest& request) = 0;
  // POST /v1/enroll/activate (no client certificate): the activated secret →
  // client certificate, first nonce, PCR bank and selection, enrollment state.
  [[nodiscard]] virtual Result<bulwark::v1::EnrollResult> activate(
      const bulwark::v1::ActivateRequest& request) = 0;
  // GET /v1/nonce (mTLS): a fresh nonce when the agent holds none.
  [[nodiscard]] virtual Result<bulwark::v1::NonceResponse> nonce() = 0;
  // POST /v1/attest (mTLS): Evidence → result summary and the next nonce.
  [[nodiscard]] virtual Result<bulwark::v1::AttestResponse> attest(
      const bulwark::v1::Evidence& evidence) = 0;
};

}  // namespace bulwark::agent
