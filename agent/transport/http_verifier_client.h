// VerifierClient over HttpClient: protobuf bodies (application/x-protobuf),
// routes of docs/api.md. Enrollment calls go over `anonymous` (no client
// certificate exists yet); nonce and attest over `authenticated` (mTLS with the
// enrollment client certificate), which is null before enrollment.
#pragma once

#include <memory>

#include "agent/transport/http_client.h"
#include "agent/transport/verifier_client.h"

namespace bulwark::agent {

inline constexpr std::string_view kProtobufType = "application/x-protobuf";

class HttpVerifierClient final : public VerifierClient {
 public:
  HttpVerifierClient(std::unique_ptr<HttpClient> anonymous,
                     std::unique_ptr<HttpClient> authenticated);

  Result<bulwark::v1::EnrollChallenge> enroll(const bulwark::v1::EnrollRequest& request) override;
  Result<bulwark::v1::EnrollResult> activate(const bulwark::v1::ActivateRequest& request) override;
  Result<bulwark::v1::NonceResponse> nonce() override;
  Result<bulwark::v1::AttestResponse> attest(const bulwark::v1::Evidence& evidence) override;

 private:
  std::unique_ptr<HttpClient> anonymous_;
  std::unique_ptr<HttpClient> authenticated_;
};

// Decodes a 2xx protobuf answer into `out`; a non-2xx into verifierError().
// Exposed for tests.
[[nodiscard]] Result<void> decodeProtoResponse(std::string_view what, const HttpResponse& response,
                                               google::protobuf::MessageLite& out);

}  // namespace bulwark::agent
