#include "attest/quote/ak_key.h"

#include <openssl/evp.h>

#include <string_view>

#include "attest/quote/marshal.h"

namespace bulwark::attest {

namespace {

constexpr int kMinRsaBits = 2048;

EvpPkeyPtr upRef(EVP_PKEY* key) {
  if (key != nullptr) EVP_PKEY_up_ref(key);  // a moved-from AkKey copies as empty
  return EvpPkeyPtr(key);
}

Result<int> checkedEcBits(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &len) != 1) {
    return fail(ErrorCode::kUnsupported, "EC key without a named curve");
  }
  std::string_view name(group, len);
  if (name == "prime256v1" || name == "P-256") return 256;
  if (name == "secp384r1" || name == "P-384") return 384;
  if (name == "secp521r1" || name == "P-521") return 521;
  return fail(ErrorCode::kUnsupported, "EC curve " + std::string(name) + " is not accepted");
}

}  // namespace

AkKey::AkKey(EvpPkeyPtr key, KeyType type, int bits, std::uint16_t scheme,
             std::uint16_t scheme_hash)
    : pkey_(std::move(key)), type_(type), bits_(bits), scheme_(scheme), scheme_hash_(scheme_hash) {}

AkKey::AkKey(const AkKey& other)
    : pkey_(upRef(other.pkey_.get())),
      type_(other.type_),
      bits_(other.bits_),
      scheme_(other.scheme_),
      scheme_hash_(other.scheme_hash_) {}

AkKey& AkKey::operator=(const AkKey& other) {
  if (this != &other) *this = AkKey(other);
  return *this;
}

Result<AkKey> AkKey::fromEvpPkey(EvpPkeyPtr key, std::uint16_t scheme, std::uint16_t scheme_hash) {
  if (!key) return fail(ErrorCode::kInvalidArgument, "no AK public key");
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key.get());
      if (bits < kMinRsaBits) {
        return fail(ErrorCode::kUnsupported, "RSA AK of " + std::to_string(bits) +
                                                 " bits (at least 2048 required)");
      }
      return AkKey(std::move(key), KeyType::kRsa, bits, scheme, scheme_hash);
    }
    case EVP_PKEY_EC: {
      auto bits = checkedEcBits(key.get());
      if (!bits) return std::unexpected(bits.error());
      return AkKey(std::move(key), KeyType::kEcc, *bits, scheme, scheme_hash);
    }
    default:
      return fail(ErrorCode::kUnsupported, "AK is neither an RSA nor an EC key");
  }
}

Result<AkKey> AkKey::fromTpm2bPublic(ByteView bytes) {
  auto pub = parseTpm2bPublic(bytes);
  if (!pub) return std::unexpected(pub.error().within("AK TPM2B_PUBLIC"));
  auto key = toEvpPkey(*pub);
  if (!key) return std::unexpected(key.error().within("AK TPM2B_PUBLIC"));
  return fromEvpPkey(std::move(*key), pub->scheme, pub->scheme_hash);
}

Result<AkKey> AkKey::fromPem(ByteView pem) {
  auto key = parsePemPublicKey(pem);
  if (!key) return std::unexpected(key.error().within("AK PEM"));
  return fromEvpPkey(std::move(*key));
}

Result<AkKey> AkKey::load(ByteView bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find("-----BEGIN ") != std::string_view::npos) return fromPem(bytes);
  return fromTpm2bPublic(bytes);
}

std::string AkKey::describe() const {
  std::string out = type_ == KeyType::kRsa ? "rsa" + std::to_string(bits_)
                                           : "ecc-p" + std::to_string(bits_);
  if (scheme_ != kAlgNull) {
    out += "/" + sigSchemeName(scheme_);
    if (auto h = hashAlgFromId(scheme_hash_)) out += "-" + std::string(hashAlgName(*h));
  }
  return out;
}

}  // namespace bulwark::attest
