// HttpClient over Boost.Beast + asio::ssl. Every request opens its own TLS 1.3
// connection (an agent sends one request per cycle; a kept-alive connection
// would only hold a verifier socket open for nothing), verifies the verifier's
// certificate chain against the configured CA file and its name or IP against
// the URL host (RFC 6125 via OpenSSL's X509_check_host/_ip), optionally presents
// the enrollment client certificate (mTLS), and bounds the whole exchange by
// one deadline and the response body by a size limit.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/transport/http_client.h"
#include "agent/transport/verifier_url.h"

namespace bulwark::agent {

struct HttpsClientOptions {
  VerifierUrl url;
  std::string ca_file;           // PEM bundle the verifier's chain must end in (required)
  std::string client_cert_file;  // PEM chain; "" = no client certificate
  std::string client_key_file;   // PEM private key of client_cert_file
  std::chrono::milliseconds timeout{15000};  // connect + TLS + request + response
  std::size_t max_response_bytes = 4u << 20;
  std::string user_agent = "bulwark-agent/0.1.0";
};

class BeastHttpsClient final : public HttpClient {
 public:
  // Loads the CA and the optional client certificate/key now, so a bad path or a
  // key that does not match its certificate fails here (kInvalidArgument naming
  // the file) rather than on the first request.
  [[nodiscard]] static Result<std::unique_ptr<BeastHttpsClient>> create(HttpsClientOptions options);
  ~BeastHttpsClient() override;

  Result<HttpResponse> post(std::string_view path, std::string_view content_type,
                            std::string_view body) override;
  Result<HttpResponse> get(std::string_view path) override;

  class Impl;

 private:
  explicit BeastHttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::agent
