// Settings of the HTTPS server itself (listener, TLS, threads, limits,
// timeouts). Plain values; filled from verifier.yaml by config.cc.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bulwark::server {

enum class TlsVersion : std::uint8_t { kTls12, kTls13 };

struct ServerConfig {
  std::string address = "0.0.0.0";  // IPv4 or IPv6 literal to bind
  std::uint16_t port = 8443;        // 0: pick a free port (tests)
  std::string cert_file;            // PEM server certificate (chain)
  std::string key_file;             // PEM server private key
  std::string client_ca_file;       // PEM CAs for client certificates; empty = no mTLS
  TlsVersion min_tls = TlsVersion::kTls13;
  unsigned threads = 2;
  std::size_t max_body_bytes = 1u << 20;    // larger bodies -> 413
  // POST /v1/attest from a client with a verified certificate (an enrolled agent): a
  // first attestation ships the node's whole measurement log (megabytes on a node
  // measuring tens of thousands of files); later ones only what was appended.
  std::size_t max_evidence_bytes = 16u << 20;
  std::size_t max_header_bytes = 16u << 10; // larger headers -> 431
  std::chrono::seconds handshake_timeout{10};
  // Whole request header, including the wait for the next request on a
  // keep-alive connection (slow-header / idle protection).
  std::chrono::seconds header_timeout{15};
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds write_timeout{30};
  // On SIGTERM: how long in-flight requests may take before connections are cut.
  std::chrono::seconds shutdown_grace{20};
};

}  // namespace bulwark::server
