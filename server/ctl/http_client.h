// A small HTTPS client for bulwarkctl (and the verifier integration tests): TLS 1.3
// (1.2 allowed) with server verification against a CA file, optional client
// certificate (mTLS) and bearer token, one keep-alive connection reused across
// requests and re-opened once when the server closed it. Boost.Beast + Asio + OpenSSL.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "attest/core/error.h"

namespace bulwark::ctl {

struct HttpClientOptions {
  std::string url;          // "https://host:port" (a path is ignored)
  std::string cacert;       // PEM CA(s) for the server certificate; "" = system store
  std::string client_cert;  // PEM client certificate (mTLS); "" = none
  std::string client_key;   // PEM key for client_cert
  std::string token;        // bearer token; "" = none. Never logged.
  std::chrono::seconds timeout{30};
};

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  // Checks the URL and loads TLS material; connects lazily. kInvalidArgument for a bad
  // URL, kIo/kCrypto for unreadable or broken certificate files.
  [[nodiscard]] static Result<std::unique_ptr<HttpClient>> create(const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // kUnavailable when the server cannot be reached, kCrypto for TLS failures
  // (certificate not trusted), kIo for a connection cut mid-request.
  [[nodiscard]] Result<HttpReply> request(const std::string& method, const std::string& target,
                                          const std::string& body = {},
                                          const std::string& content_type = "application/json",
                                          const std::string& accept = "application/json");

  struct Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark::ctl
