// ES256 (ECDSA P-256 + SHA-256) for JWS, RFC 7518 §3.4: the signature on the
// wire is the fixed-width concatenation R || S (32 bytes each), not the DER
// ECDSA-Sig-Value OpenSSL produces; this file converts between the two.
#pragma once

#include "attest/core/bytes.h"
#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {

inline constexpr std::size_t kEs256SignatureSize = 64;

// True when the key is an EC key on P-256 (public, or private with public).
bool isP256Key(const EVP_PKEY* key);

// Signs SHA-256(message) with a P-256 private key; returns R || S (64 bytes).
Result<Bytes> es256Sign(EVP_PKEY* key, ByteView message);

// Verifies an R || S signature. Returns false for a wrong-length signature, a
// non-P-256 key or a bad signature; never an error for attacker-chosen input.
bool es256Verify(EVP_PKEY* key, ByteView message, ByteView signature);

}  // namespace bulwark::attest
