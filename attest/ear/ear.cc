// EAR as a compact JWS (RFC 7515 §7.1) signed ES256.
#include "attest/ear/ear.h"

#include <nlohmann/json.hpp>

#include "attest/ear/base64url.h"
#include "attest/ear/es256.h"
#include "attest/ear/jwk.h"

namespace bulwark::attest {

namespace {
using nlohmann::json;

std::unexpected<EarRejected> reject(EarRejection r, std::string detail) {
  return std::unexpected(EarRejected{r, std::move(detail)});
}

// Parses untrusted JSON without exceptions; nullopt on any syntax error.
std::optional<json> parseJson(ByteView bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Result<std::string> keyId(EVP_PKEY* key) {
  auto jwk = publicJwk(key);
  if (!jwk) return std::unexpected(jwk.error());
  return (*jwk)["kid"].get<std::string>();
}

struct Parts {
  std::string_view header, payload, signature;
};

std::optional<Parts> splitCompact(std::string_view token) {
  auto a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  auto b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return Parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

// Header checks. Only "alg" and "kid" are acted on; "crit" is refused because
// we implement no critical extensions (RFC 7515 §4.1.11).
std::expected<void, EarRejected> checkHeader(std::string_view b64, EVP_PKEY* key) {
  auto bytes = base64urlDecode(b64);
  if (!bytes) return reject(EarRejection::kMalformed, "header: " + bytes.error().message());
  auto header = parseJson(*bytes);
  if (!header || !header->is_object()) {
    return reject(EarRejection::kMalformed, "header is not a JSON object");
  }
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || alg->get<std::string>() != "ES256") {
    std::string got = alg != header->end() && alg->is_string() ? alg->get<std::string>() : "?";
    return reject(EarRejection::kAlgorithm, "alg '" + got + "' is not ES256");
  }
  if (header->contains("crit")) {
    return reject(EarRejection::kAlgorithm, "critical header parameters are not supported");
  }
  if (auto kid = header->find("kid"); kid != header->end()) {
    auto ours = keyId(key);
    if (!kid->is_string() || !ours || kid->get<std::string>() != *ours) {
      return reject(EarRejection::kKeyMismatch, "kid does not name the verification key");
    }
  }
  return {};
}

std::expected<Ear, EarRejected> checkClaims(std::string_view b64,
                                            const EarVerifyOptions& options) {
  auto bytes = base64urlDecode(b64);
  if (!bytes) return reject(EarRejection::kMalformed, "payload: " + bytes.error().message());
  auto claims = parseJson(*bytes);
  if (!claims) return reject(EarRejection::kMalformed, "payload is not JSON");
  auto ear = earFromJson(*claims);
  if (!ear) return reject(EarRejection::kClaims, ear.error().toString());
  if (ear->profile != kEarProfile) {
    return reject(EarRejection::kProfile, "eat_profile '" + ear->profile + "' is not " +
                                              std::string(kEarProfile));
  }
  // RFC 7519 §4.1.4: the current time MUST be before exp.
  if (options.now >= ear->exp) {
    return reject(EarRejection::kExpired, "expired at " + std::to_string(ear->exp) +
                                              ", now " + std::to_string(options.now));
  }
  if (ear->iat > options.now + options.leeway_seconds) {
    return reject(EarRejection::kNotYetValid, "issued at " + std::to_string(ear->iat) +
                                                  ", after now " + std::to_string(options.now));
  }
  return std::move(*ear);
}
}  // namespace

std::string_view earRejectionName(EarRejection r) {
  switch (r) {
    case EarRejection::kMalformed: return "malformed";
    case EarRejection::kAlgorithm: return "algorithm";
    case EarRejection::kKeyMismatch: return "key-mismatch";
    case EarRejection::kSignature: return "signature";
    case EarRejection::kClaims: return "claims";
    case EarRejection::kProfile: return "profile";
    case EarRejection::kExpired: return "expired";
    case EarRejection::kNotYetValid: return "not-yet-valid";
  }
  return "unknown";
}

std::string EarRejected::toString() const {
  return std::string(earRejectionName(reason)) + ": " + detail;
}

Result<std::string> signEar(const Ear& ear, EVP_PKEY* key) {
  auto claims = earToJson(ear);
  if (!claims) return std::unexpected(claims.error());
  auto kid = keyId(key);
  if (!kid) return std::unexpected(kid.error());
  json header = {{"alg", "ES256"}, {"kid", *kid}, {"typ", "JWT"}};
  // Reason details may quote file names that are not valid UTF-8; replace
  // those bytes rather than fail the whole result.
  std::string payload = claims->dump(-1, ' ', false, json::error_handler_t::replace);
  std::string signing_input = base64urlEncode(header.dump()) + "." + base64urlEncode(payload);
  auto sig = es256Sign(key, asBytes(signing_input));
  if (!sig) return std::unexpected(sig.error());
  return signing_input + "." + base64urlEncode(*sig);
}

std::expected<Ear, EarRejected> verifyEar(std::string_view token, EVP_PKEY* key,
                                          const EarVerifyOptions& options) {
  if (token.size() > kMaxEarBytes) {
    return reject(EarRejection::kMalformed, "token larger than " + std::to_string(kMaxEarBytes));
  }
  auto parts = splitCompact(token);
  if (!parts) return reject(EarRejection::kMalformed, "not a compact JWS (three '.'-separated parts)");
  if (auto h = checkHeader(parts->header, key); !h) return std::unexpected(h.error());
  auto sig = base64urlDecode(parts->signature);
  if (!sig) return reject(EarRejection::kMalformed, "signature: " + sig.error().message());
  // RFC 7515 §5.2: the signing input is the ASCII of header '.' payload.
  std::string_view signing_input =
      token.substr(0, parts->header.size() + 1 + parts->payload.size());
  if (!es256Verify(key, asBytes(signing_input), *sig)) {
    return reject(EarRejection::kSignature, "ES256 signature does not verify with the key");
  }
  return checkClaims(parts->payload, options);
}

}  // namespace bulwark::attest
