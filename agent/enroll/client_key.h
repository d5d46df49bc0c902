// The agent's mTLS identity toward the verifier: a P-256 key generated on the
// node (it never leaves the state directory, mode 0600), a PKCS#10 request for
// it (RFC 2986) sent with the enrollment, and the certificate the verifier
// returns. OpenSSL does the work; these helpers translate its errors.
#pragma once

#include <string>

#include "attest/core/bytes.h"
#include "attest/core/error.h"

namespace bulwark::agent {

// Generates a P-256 key and writes it as PKCS#8 PEM, mode 0600, atomically.
[[nodiscard]] Result<void> createClientKey(const std::string& path);
// True when `path` holds a usable private key (P-256 or another EC/RSA key).
[[nodiscard]] Result<void> checkClientKey(const std::string& path);

// DER PKCS#10 request signed (ECDSA-SHA256) by the key at `key_path`, subject
// CN=`common_name` (the verifier sets the certificate's CN to the node name
// anyway; docs/api.md).
[[nodiscard]] Result<Bytes> makeCsr(const std::string& key_path, const std::string& common_name);

// PEM text of a DER certificate; kMalformed when it does not parse.
[[nodiscard]] Result<std::string> certificateDerToPem(ByteView der);
// Checks that the DER certificate certifies the key at `key_path` (otherwise
// mTLS would fail later with an obscure handshake error).
[[nodiscard]] Result<void> checkCertificateMatchesKey(ByteView cert_der,
                                                      const std::string& key_path);

}  // namespace bulwark::agent
