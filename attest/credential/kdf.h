// The two key derivation functions of TPM 2.0 Part 1 §11.4.10, used by credential
// protection (§24) and ECC secret sharing (Annex C.6).
//
// Both are spec formulas that OpenSSL ships as standard KDF providers:
//   KDFa (§11.4.10.2) is SP800-108 counter-mode KDF with HMAC:
//     K(i) = HMAC(key, [i]_32 || Label || 0x00 || Context || [L]_32), i = 1, 2, ...
//   which is OpenSSL's KBKDF (mode=counter, mac=HMAC, salt=Label, info=Context,
//   use-separator=1, use-l=1, 32-bit counter).
//   KDFe (§11.4.10.3) is the SP800-56A single-step (concatenation) KDF:
//     K(i) = H([i]_32 || Z || Use || 0x00 || PartyUInfo || PartyVInfo)
//   which is OpenSSL's SSKDF (digest variant) with FixedInfo = Use||0x00||U||V.
// Labels are given without their terminating NUL; it is added here as the spec's
// null-terminated-string convention requires.
#pragma once

#include <cstddef>
#include <string_view>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"

namespace bulwark::attest {

// KDFa(hashAlg, key, label, contextU, contextV, bits). Context = contextU || contextV.
// bits must be a positive multiple of 8 (credential protection only needs byte
// lengths; the spec's masking of a partial first byte is therefore not needed).
[[nodiscard]] Result<Bytes> kdfa(HashAlg alg, ByteView key, std::string_view label,
                                 ByteView context_u, ByteView context_v, std::size_t bits);

// KDFe(hashAlg, Z, use, partyUInfo, partyVInfo, bits), same restriction on bits.
[[nodiscard]] Result<Bytes> kdfe(HashAlg alg, ByteView z, std::string_view use,
                                 ByteView party_u, ByteView party_v, std::size_t bits);

}  // namespace bulwark::attest
