// base64url without padding (RFC 4648 §5, as JWS requires in RFC 7515 §2).
// Decoding is strict: only the URL-safe alphabet, no '=' padding, no
// whitespace, and the unused low bits of the last symbol must be zero, so one
// byte string has exactly one encoding (no signature malleability through
// alternative encodings).
#pragma once

#include <string>
#include <string_view>

#include "attest/core/bytes.h"

namespace bulwark::attest {

std::string base64urlEncode(ByteView data);
inline std::string base64urlEncode(std::string_view text) { return base64urlEncode(asBytes(text)); }

// kMalformed on any character outside [A-Za-z0-9_-], on a length of 1 mod 4,
// or on non-zero trailing bits.
Result<Bytes> base64urlDecode(std::string_view text);

}  // namespace bulwark::attest
