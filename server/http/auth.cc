#include "server/http/auth.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "attest/core/digest.h"

namespace bulwark::server {

namespace {
constexpr std::array<std::string_view, 4> kRoleNames = {"agent", "scheduler", "auditor", "admin"};
// Tokens are random strings of modest size; a bound keeps hashing cheap.
constexpr std::size_t kMaxTokenBytes = 4096;

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

AuthResult invalid(std::string why) {
  AuthResult r;
  r.outcome = AuthResult::Outcome::kInvalid;
  r.why = std::move(why);
  return r;
}
}  // namespace

std::string_view roleName(Role role) { return kRoleNames[static_cast<std::size_t>(role)]; }

std::optional<Role> roleFromName(std::string_view name) {
  for (Role r : kAllRoles) {
    if (roleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string RoleSet::toString() const {
  std::string out;
  for (Role r : kAllRoles) {
    if (!has(r)) continue;
    if (!out.empty()) out += ',';
    out += roleName(r);
  }
  return out;
}

bool isValidNodeName(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.front() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

AuthResult Authenticator::authenticate(const HttpRequest& request) const {
  if (auto authz = request.header("authorization")) return fromToken(*authz);
  if (request.peer) return fromCertificate(*request.peer);
  return {};
}

AuthResult Authenticator::fromToken(std::string_view authorization) const {
  // RFC 6750 §2.1: "Bearer" SP token; the scheme is case-insensitive (RFC 9110 §11.1).
  if (!startsWithIgnoreCase(authorization, "bearer ")) {
    return invalid("authorization scheme is not Bearer");
  }
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > kMaxTokenBytes) return invalid("bearer token empty or too long");
  Bytes digest = sha256(asBytes(token));
  // Compare against every entry without stopping early, so timing does not
  // reveal which entry (or how much of a hash) matched.
  const TokenCredential* match = nullptr;
  for (const TokenCredential& t : config_.tokens) {
    if (constantTimeEqual(digest, t.sha256) && match == nullptr) match = &t;
  }
  if (match == nullptr) return invalid("unknown bearer token");
  AuthResult r;
  r.outcome = AuthResult::Outcome::kAuthenticated;
  r.principal = {match->name, RoleSet{match->role}, Principal::Via::kToken};
  return r;
}

AuthResult Authenticator::fromCertificate(const PeerCertificate& cert) const {
  AuthResult r;
  r.outcome = AuthResult::Outcome::kAuthenticated;
  r.principal.via = Principal::Via::kCertificate;
  r.principal.name = cert.subject_cn.empty() ? "sha256:" + cert.sha256 : cert.subject_cn;
  for (const CertCredential& c : config_.client_certs) {
    if (c.sha256 == cert.sha256) {
      r.principal.roles.add(c.role);
      r.principal.name = c.name;
    }
  }
  // Issued under the agent CA: an issuer in the verified chain (the leaf itself
  // does not count) is the agent CA, and the CN is a usable node name.
  bool agent_issued = !config_.agent_ca_sha256.empty() && cert.chain_sha256.size() > 1 &&
                      std::find(cert.chain_sha256.begin() + 1, cert.chain_sha256.end(),
                                config_.agent_ca_sha256) != cert.chain_sha256.end();
  if (agent_issued && isValidNodeName(cert.subject_cn) && r.principal.roles.empty()) {
    r.principal.roles.add(Role::kAgent);
    r.principal.name = cert.subject_cn;
  }
  return r;
}

}  // namespace bulwark::server
