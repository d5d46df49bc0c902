// TLS for the verifier (OpenSSL through boost::asio::ssl): TLS 1.3 only by
// default, optional client-certificate verification (mTLS) against a CA
// file, and extraction of the verified client certificate for authorization.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "attest/core/error.h"
#include "server/http/http_types.h"
#include "server/http/server_config.h"

typedef struct ssl_st SSL;

namespace bulwark::server {

// Loads certificate chain, key and (when configured) client CAs; every file
// problem is an Error naming the file.
Result<std::shared_ptr<boost::asio::ssl::context>> makeServerTlsContext(const ServerConfig& config);

// The peer certificate of a completed handshake, only when OpenSSL verified
// it (X509_V_OK); nullopt when the client sent none.
std::optional<PeerCertificate> verifiedPeerCertificate(SSL* ssl);

// Lower-case hex SHA-256 of the DER encoding of the first certificate in a PEM file.
Result<std::string> certificateFileSha256(const std::string& pem_path);

}  // namespace bulwark::server
