// A minimal HTTP/1.1 GET over a unix stream socket (Boost.Beast on an Asio local
// stream socket) for local daemons' APIs such as the Docker Engine API. Every call
// has a deadline and a body limit; no exception escapes (Beast error_code APIs).
#pragma once

#include <chrono>
#include <string>

#include "attest/core/error.h"

namespace bulwark::agent {

struct UnixHttpResponse {
  unsigned status = 0;
  std::string body;
};

struct UnixHttpOptions {
  std::chrono::milliseconds timeout{5000};  // whole exchange
  std::size_t max_body = 16u << 20;
  std::string host = "localhost";  // Host header (the daemon ignores it)
};

// kNotFound: no socket at `socket_path`; kUnavailable: connection refused, timeout,
// or a broken exchange; kMalformed: a response Beast cannot parse or over the limit.
[[nodiscard]] Result<UnixHttpResponse> unixHttpGet(const std::string& socket_path,
                                                   const std::string& target,
                                                   const UnixHttpOptions& options = {});

}  // namespace bulwark::agent
