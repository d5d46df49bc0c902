// The agent's HTTP seam (STYLE.md: interface named for what it does). The
// VerifierClient speaks bulwark.v1 over an HttpClient; BeastHttpsClient is the
// real one (TLS 1.3 over Boost.Beast), tests substitute their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "attest/core/error.h"

namespace bulwark::agent {

struct HttpResponse {
  int status = 0;
  std::string content_type;  // the Content-Type header, verbatim ("" if absent)
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // One request, one response. Any HTTP status is a response (the caller decides
  // what a 4xx means); an Error means no complete response arrived: kUnavailable
  // for connect/TLS/timeout failures, kMalformed for a response that is not HTTP
  // or exceeds the body limit, kInvalidArgument for an unusable request.
  // `path` is absolute ("/v1/attest") and is appended to the base URL's prefix.
  [[nodiscard]] virtual Result<HttpResponse> post(std::string_view path,
                                                  std::string_view content_type,
                                                  std::string_view body) = 0;
  [[nodiscard]] virtual Result<HttpResponse> get(std::string_view path) = 0;
};

}  // namespace bulwark::agent
