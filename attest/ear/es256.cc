#include "attest/ear/es256.h"

#include <memory>
#include <string>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

namespace bulwark::attest {

namespace {
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using SigPtr = std::unique_ptr<ECDSA_SIG, SigDeleter>;
constexpr std::size_t kCoord = kEs256SignatureSize / 2;
}  // namespace

bool isP256Key(const EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &len) != 1) {
    return false;
  }
  return std::string(group, len) == SN_X9_62_prime256v1;
}

Result<Bytes> es256Sign(EVP_PKEY* key, ByteView message) {
  if (!isP256Key(key)) return fail(ErrorCode::kInvalidArgument, "ES256 needs a P-256 key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_DigestSignInit");
  }
  std::size_t der_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &der_len, message.data(), message.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_DigestSign");
  }
  Bytes der(der_len);
  if (EVP_DigestSign(ctx.get(), der.data(), &der_len, message.data(), message.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_DigestSign");
  }
  const unsigned char* p = der.data();
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return fail(ErrorCode::kCrypto, opensslErrors(), "d2i_ECDSA_SIG");
  Bytes raw(kEs256SignatureSize);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw.data(), kCoord) != kCoord ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw.data() + kCoord, kCoord) != kCoord) {
    return fail(ErrorCode::kCrypto, "ECDSA signature component wider than 32 bytes",
                "BN_bn2binpad");
  }
  return raw;
}

bool es256Verify(EVP_PKEY* key, ByteView message, ByteView signature) {
  if (signature.size() != kEs256SignatureSize || !isP256Key(key)) return false;
  SigPtr sig(ECDSA_SIG_new());
  if (!sig) return false;
  BIGNUM* r = BN_bin2bn(signature.data(), kCoord, nullptr);
  BIGNUM* s = BN_bin2bn(signature.data() + kCoord, kCoord, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* d) { OPENSSL_free(d); });
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len), message.data(),
                             message.size()) == 1;
  ERR_clear_error();  // a failed verification leaves entries nobody will read
  return ok;
}

}  // namespace bulwark::attest
