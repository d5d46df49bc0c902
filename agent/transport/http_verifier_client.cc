#include "agent/transport/http_verifier_client.h"

#include "agent/transport/verifier_error.h"

namespace bulwark::agent {

namespace {

bool isProtobuf(std::string_view content_type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return base == kProtobufType;
}

template <typename Response>
Result<Response> postProto(HttpClient* client, std::string_view path,
                           const google::protobuf::MessageLite& request) {
  std::string what = "POST " + std::string(path);
  if (client == nullptr) {
    return fail(ErrorCode::kInvalidArgument, "no client certificate: enroll first", what);
  }
  std::string body;
  if (!request.SerializeToString(&body)) {
    return fail(ErrorCode::kInternal, "cannot serialize the request", what);
  }
  auto response = client->post(path, kProtobufType, body);
  if (!response) return std::unexpected(response.error());
  Response out;
  if (auto r = decodeProtoResponse(what, *response, out); !r) return std::unexpected(r.error());
  return out;
}

}  // namespace

Result<void> decodeProtoResponse(std::string_view what, const HttpResponse& response,
                                 google::protobuf::MessageLite& out) {
  if (response.status < 200 || response.status > 299)
    return std::unexpected(verifierError(what, response));
  if (!isProtobuf(response.content_type)) {
    return fail(ErrorCode::kMalformed,
                "verifier answered '" + response.content_type.substr(0, 80) + "', expected " +
                    std::string(kProtobufType),
                std::string(what));
  }
  if (!out.ParseFromString(response.body)) {
    return fail(ErrorCode::kMalformed, "verifier answer does not parse as " + out.GetTypeName(),
                std::string(what));
  }
  return {};
}

HttpVerifierClient::HttpVerifierClient(std::unique_ptr<HttpClient> anonymous,
                                       std::unique_ptr<HttpClient> authenticated)
    : anonymous_(std::move(anonymous)), authenticated_(std::move(authenticated)) {}

Result<bulwark::v1::EnrollChallenge> HttpVerifierClient::enroll(
    const bulwark::v1::EnrollRequest& request) {
  return postProto<bulwark::v1::EnrollChallenge>(anonymous_.get(), "/v1/enroll", request);
}

Result<bulwark::v1::EnrollResult> HttpVerifierClient::activate(
    const bulwark::v1::ActivateRequest& request) {
  return postProto<bulwark::v1::EnrollResult>(anonymous_.get(), "/v1/enroll/activate", request);
}

Result<bulwark::v1::NonceResponse> HttpVerifierClient::nonce() {
  constexpr std::string_view kWhat = "GET /v1/nonce";
  if (!authenticated_) {
    return fail(ErrorCode::kInvalidArgument, "no client certificate: enroll first",
                std::string(kWhat));
  }
  auto response = authenticated_->get("/v1/nonce");
  if (!response) return std::unexpected(response.error());
  bulwark::v1::NonceResponse out;
  if (auto r = decodeProtoResponse(kWhat, *response, out); !r) return std::unexpected(r.error());
  return out;
}

Result<bulwark::v1::AttestResponse> HttpVerifierClient::attest(
    const bulwark::v1::Evidence& evidence) {
  return postProto<bulwark::v1::AttestResponse>(authenticated_.get(), "/v1/attest", evidence);
}

}  // namespace bulwark::agent
