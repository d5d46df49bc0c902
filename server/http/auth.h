// Who is calling: bearer tokens (config stores SHA-256 hashes, compared in
// constant time) and mTLS client certificates (verified by OpenSSL during the
// handshake; mapped to roles here). Pure: request values in, principal out.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "server/http/http_types.h"

namespace bulwark::server {

// DESIGN §6 roles.
enum class Role : std::uint8_t { kAgent, kScheduler, kAuditor, kAdmin };
inline constexpr Role kAllRoles[] = {Role::kAgent, Role::kScheduler, Role::kAuditor, Role::kAdmin};
std::string_view roleName(Role role);
std::optional<Role> roleFromName(std::string_view name);

class RoleSet {
 public:
  constexpr RoleSet() = default;
  constexpr RoleSet(std::initializer_list<Role> roles) {
    for (Role r : roles) bits_ |= bit(r);
  }
  constexpr bool has(Role r) const { return (bits_ & bit(r)) != 0; }
  constexpr bool intersects(RoleSet o) const { return (bits_ & o.bits_) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr void add(Role r) { bits_ |= bit(r); }
  std::string toString() const;  // "scheduler,admin"; "" when empty
  bool operator==(const RoleSet&) const = default;

 private:
  static constexpr std::uint8_t bit(Role r) { return std::uint8_t(1u << static_cast<unsigned>(r)); }
  std::uint8_t bits_ = 0;
};

struct TokenCredential {
  std::string name;  // who holds it, for logs ("kube-scheduler")
  Role role;
  Bytes sha256;      // SHA-256 of the token bytes (32 bytes)
};

struct CertCredential {
  std::string name;
  Role role;
  std::string sha256;  // lower-case hex SHA-256 of the DER client certificate
};

struct AccessConfig {
  std::vector<TokenCredential> tokens;
  std::vector<CertCredential> client_certs;
  // Lower-case hex SHA-256 of the agent CA certificate. A verified client
  // certificate issued under it authenticates the node named by its CN as
  // role agent (enrollment issues those certificates, DESIGN §3 step 5).
  std::string agent_ca_sha256;
};

struct Principal {
  std::string name;  // token/cert name, or the node name for agents
  RoleSet roles;
  enum class Via : std::uint8_t { kToken, kCertificate } via = Via::kToken;
};

struct AuthResult {
  enum class Outcome : std::uint8_t {
    kAnonymous,      // no credential presented
    kInvalid,        // a credential was presented and is not valid
    kAuthenticated,  // principal is set (its role set may be empty)
  } outcome = Outcome::kAnonymous;
  Principal principal;
  std::string why;  // for kInvalid: safe to log, never contains the token
};

// Node names: 1..253 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool isValidNodeName(std::string_view name);

class Authenticator {
 public:
  explicit Authenticator(AccessConfig config) : config_(std::move(config)) {}

  // A present Authorization header decides alone (an invalid token is not
  // rescued by a certificate); otherwise the verified client certificate, if
  // any, is mapped to its configured roles plus agent when issued by the agent CA.
  AuthResult authenticate(const HttpRequest& request) const;

 private:
  AuthResult fromToken(std::string_view authorization) const;
  AuthResult fromCertificate(const PeerCertificate& cert) const;
  AccessConfig config_;
};

}  // namespace bulwark::server
