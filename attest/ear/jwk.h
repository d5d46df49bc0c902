// JSON Web Keys for the verifier's EAR signing key: export of the public half
// as a JWK/JWKS (RFC 7517, RFC 7518 §6.2 EC keys), the RFC 7638 thumbprint
// used as "kid", and import of a P-256 JWK (for bulwarkctl and relying parties).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

// RFC 7638 §3: SHA-256 over the required members of the JWK (EC: crv, kty, x,
// y; RSA: e, kty, n; OKP: crv, kty, x; oct: k, kty) serialised with sorted
// member names and no whitespace, base64url-encoded. Other members are ignored.
// kMalformed when kty is missing/unknown or a required member is not a string.
Result<std::string> jwkThumbprint(const nlohmann::json& jwk);

// {"kty":"EC","crv":"P-256","x":..,"y":..,"kid":<thumbprint>,"alg":"ES256","use":"sig"}
// kInvalidArgument unless the key is P-256.
Result<nlohmann::json> publicJwk(const EVP_PKEY* key);

// {"keys":[...]} from public JWKs.
nlohmann::json jwks(const std::vector<nlohmann::json>& keys);

// Imports an EC P-256 public JWK; rejects other kty/crv, bad coordinates and
// points not on the curve.
Result<EvpPkeyPtr> publicKeyFromJwk(const nlohmann::json& jwk);

}  // namespace bulwark::attest
