// Socket-free request/response values. The Session converts Beast messages to
// and from these, so routing, authorization and handlers are plain functions
// of values and are unit-tested without TLS or sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::server {

// The client certificate of an mTLS connection, present only when OpenSSL
// verified its chain against the configured client CA during the handshake.
struct PeerCertificate {
  std::string subject_cn;                       // first CN of the subject, may be empty
  std::string sha256;                           // lower-case hex of SHA-256(DER certificate)
  std::vector<std::string> chain_sha256;        // verified chain, leaf first, same encoding
  std::string serial_hex;                       // certificate serial, lower-case hex (BN_bn2hex)
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // request-target as sent, e.g. "/v1/nodes?x=1"
  // Header fields with lower-case names, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // "ip:port", for logs
  std::optional<PeerCertificate> peer;

  // First value of a header (name compared case-insensitively); nullopt if absent.
  std::optional<std::string_view> header(std::string_view name) const;
  // target without the query string.
  std::string_view path() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields

  // {"error": <message>, "status": <code>} with application/json.
  static HttpResponse error(int status, std::string_view message);
  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type);
};

}  // namespace bulwark::server
