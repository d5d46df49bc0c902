#include "attest/ear/jwk.h"

#include <array>
#include <memory>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "attest/core/digest.h"
#include "attest/ear/base64url.h"
#include "attest/ear/es256.h"

namespace bulwark::attest {

namespace {
constexpr std::size_t kP256Coord = 32;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// Required members per key type (RFC 7638 §3.2, RFC 8037 §2 for OKP).
std::vector<std::string_view> requiredMembers(std::string_view kty) {
  if (kty == "EC") return {"crv", "kty", "x", "y"};
  if (kty == "RSA") return {"e", "kty", "n"};
  if (kty == "OKP") return {"crv", "kty", "x"};
  if (kty == "oct") return {"k", "kty"};
  return {};
}

Result<Bytes> coordinate(const EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), param);
  }
  std::unique_ptr<BIGNUM, BnFree> bn(raw);
  Bytes out(kP256Coord);
  if (BN_bn2binpad(bn.get(), out.data(), kP256Coord) != kP256Coord) {
    return fail(ErrorCode::kCrypto, "coordinate wider than 32 bytes", param);
  }
  return out;
}

Result<Bytes> coordinateFromJwk(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return fail(ErrorCode::kMalformed, std::string("JWK member '") + name + "' missing");
  }
  auto bytes = base64urlDecode(it->get<std::string>());
  if (!bytes) return std::unexpected(bytes.error().within(std::string("JWK ") + name));
  // RFC 7518 §6.2.1.2: the full coordinate size, even with leading zeros.
  if (bytes->size() != kP256Coord) {
    return fail(ErrorCode::kMalformed, std::string("JWK ") + name + " is not 32 bytes");
  }
  return bytes;
}
}  // namespace

Result<std::string> jwkThumbprint(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return fail(ErrorCode::kMalformed, "JWK is not an object");
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) {
    return fail(ErrorCode::kMalformed, "JWK has no string 'kty'");
  }
  auto members = requiredMembers(kty->get<std::string>());
  if (members.empty()) {
    return fail(ErrorCode::kUnsupported, "JWK kty '" + kty->get<std::string>() + "' unknown");
  }
  // nlohmann objects are std::map-ordered, i.e. sorted by byte value, which is
  // the RFC 7638 §3.3 order for the ASCII member names involved; dump() emits
  // no whitespace.
  nlohmann::json canonical = nlohmann::json::object();
  for (std::string_view m : members) {
    auto it = jwk.find(m);
    if (it == jwk.end() || !it->is_string()) {
      return fail(ErrorCode::kMalformed, "JWK required member '" + std::string(m) + "' missing");
    }
    canonical[std::string(m)] = *it;
  }
  return base64urlEncode(sha256(asBytes(canonical.dump())));
}

Result<nlohmann::json> publicJwk(const EVP_PKEY* key) {
  if (!isP256Key(key)) return fail(ErrorCode::kInvalidArgument, "JWK export needs a P-256 key");
  auto x = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X);
  if (!x) return std::unexpected(x.error());
  auto y = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!y) return std::unexpected(y.error());
  nlohmann::json jwk = {{"kty", "EC"}, {"crv", "P-256"}, {"x", base64urlEncode(*x)},
                        {"y", base64urlEncode(*y)}};
  auto kid = jwkThumbprint(jwk);
  if (!kid) return std::unexpected(kid.error());
  jwk["kid"] = *kid;
  jwk["alg"] = "ES256";
  jwk["use"] = "sig";
  return jwk;
}

nlohmann::json jwks(const std::vector<nlohmann::json>& keys) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& k : keys) arr.push_back(k);
  return nlohmann::json{{"keys", std::move(arr)}};
}

Result<EvpPkeyPtr> publicKeyFromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return fail(ErrorCode::kMalformed, "JWK is not an object");
  auto is = [&jwk](const char* name, std::string_view want) {
    auto it = jwk.find(name);
    return it != jwk.end() && it->is_string() && it->get<std::string>() == want;
  };
  if (!is("kty", "EC") || !is("crv", "P-256")) {
    return fail(ErrorCode::kUnsupported, "only EC P-256 JWKs are supported");
  }
  auto x = coordinateFromJwk(jwk, "x");
  if (!x) return std::unexpected(x.error());
  auto y = coordinateFromJwk(jwk, "y");
  if (!y) return std::unexpected(y.error());
  // Uncompressed SEC1 point: 0x04 || X || Y.
  Bytes point{0x04};
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      SN_X9_62_prime256v1, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "OSSL_PARAM_BLD");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return fail(ErrorCode::kMalformed, "JWK point is not on P-256: " + opensslErrors());
  }
  EvpPkeyPtr key(raw);
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return fail(ErrorCode::kMalformed, "JWK point is not on P-256: " + opensslErrors());
  }
  return key;
}

}  // namespace bulwark::attest
