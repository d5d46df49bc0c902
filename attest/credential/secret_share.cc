#include "attest/credential/secret_share.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <memory>

#include "attest/credential/kdf.h"

namespace bulwark::attest {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;
using GroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

void appendTpm2b(Bytes& out, ByteView data) {
  out.push_back(static_cast<std::uint8_t>(data.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
}

Bytes tpm2b(ByteView data) {
  Bytes out;
  appendTpm2b(out, data);
  return out;
}

Result<SharedSeed> shareRsa(const TpmPublic& key, std::string_view use, Rng& rng) {
  auto pkey = toEvpPkey(key);
  if (!pkey) return std::unexpected(pkey.error());
  SharedSeed out;
  out.seed.resize(hashAlgSize(key.name_alg));
  if (auto r = rng.fill(out.seed); !r) return std::unexpected(r.error());
  // The OAEP label is the null-terminated string, terminator included (Part 1 Annex B.10).
  // OpenSSL takes ownership of the label buffer, so it must come from OPENSSL_malloc.
  auto* label = static_cast<unsigned char*>(OPENSSL_zalloc(use.size() + 1));
  if (label == nullptr) return fail(ErrorCode::kCrypto, opensslErrors(), "OPENSSL_zalloc");
  std::copy(use.begin(), use.end(), label);
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  const EVP_MD* md = hashAlgMd(key.name_alg);
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) {
    OPENSSL_free(label);
    return fail(ErrorCode::kCrypto, opensslErrors(), "RSA-OAEP setup");
  }
  if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, static_cast<int>(use.size() + 1)) != 1) {
    OPENSSL_free(label);
    return fail(ErrorCode::kCrypto, opensslErrors(), "RSA-OAEP label");
  }
  std::size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, out.seed.data(), out.seed.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "RSA-OAEP encrypt");
  }
  Bytes cipher(len);
  if (EVP_PKEY_encrypt(ctx.get(), cipher.data(), &len, out.seed.data(), out.seed.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "RSA-OAEP encrypt");
  }
  cipher.resize(len);
  out.encrypted_secret = tpm2b(cipher);
  return out;
}

struct Curve {
  int nid;
  const char* name;
  std::size_t bytes;
};

Result<Curve> curveOf(const TpmPublic& key) {
  if (key.curve == kEccNistP256) return Curve{NID_X9_62_prime256v1, "P-256", 32};
  if (key.curve == kEccNistP384) return Curve{NID_secp384r1, "P-384", 48};
  return fail(ErrorCode::kUnsupported, "EK curve " + std::to_string(key.curve) +
                                           " (only NIST P-256 and P-384 are handled)");
}

struct Ephemeral {
  BnPtr d;
  Bytes x, y;  // Qe = d·G, coordinates left-padded to the curve size
};

// d uniform in [1, n-1] by rejection sampling of curve-size strings from the Rng
// (FIPS 186-5 §A.4.2 style), so the injected Rng fully determines the key.
Result<Ephemeral> ephemeralKey(const Curve& curve, Rng& rng) {
  GroupPtr group(EC_GROUP_new_by_curve_name(curve.nid));
  BnCtxPtr bn_ctx(BN_CTX_new());
  if (!group || !bn_ctx) return fail(ErrorCode::kCrypto, opensslErrors(), "EC group");
  const BIGNUM* order = EC_GROUP_get0_order(group.get());
  Ephemeral eph;
  Bytes buf(curve.bytes);
  for (int attempt = 0; attempt < 64 && !eph.d; ++attempt) {
    if (auto r = rng.fill(buf); !r) return std::unexpected(r.error());
    BnPtr d(BN_bin2bn(buf.data(), static_cast<int>(buf.size()), nullptr));
    if (!d) return fail(ErrorCode::kCrypto, opensslErrors(), "BN_bin2bn");
    if (!BN_is_zero(d.get()) && BN_cmp(d.get(), order) < 0) eph.d = std::move(d);
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  if (!eph.d) return fail(ErrorCode::kCrypto, "Rng produced no valid ECC scalar in 64 draws");
  PointPtr q(EC_POINT_new(group.get()));
  Bytes point(1 + 2 * curve.bytes);
  if (!q || EC_POINT_mul(group.get(), q.get(), eph.d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                         point.size(), bn_ctx.get()) != point.size()) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "ephemeral ECC point");
  }
  eph.x.assign(point.begin() + 1, point.begin() + 1 + static_cast<long>(curve.bytes));
  eph.y.assign(point.begin() + 1 + static_cast<long>(curve.bytes), point.end());
  return eph;
}

Result<EvpPkeyPtr> ephemeralPkey(const Curve& curve, const Ephemeral& eph) {
  Bytes point{0x04};
  point.insert(point.end(), eph.x.begin(), eph.x.end());
  point.insert(point.end(), eph.y.begin(), eph.y.end());
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.name, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, eph.d.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "ephemeral key params");
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "ephemeral key");
  }
  return EvpPkeyPtr(raw);
}

// Z = x coordinate of d·Qs, left-padded to the field size (what EVP ECDH derives).
Result<Bytes> ecdh(EVP_PKEY* ours, EVP_PKEY* peer) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ours, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "ECDH");
  }
  Bytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "ECDH");
  }
  z.resize(len);
  return z;
}

Result<SharedSeed> shareEcc(const TpmPublic& key, std::string_view use, Rng& rng) {
  auto curve = curveOf(key);
  if (!curve) return std::unexpected(curve.error());
  auto ek = toEvpPkey(key);  // also rejects points that are not on the curve
  if (!ek) return std::unexpected(ek.error());
  auto eph = ephemeralKey(*curve, rng);
  if (!eph) return std::unexpected(eph.error());
  auto eph_key = ephemeralPkey(*curve, *eph);
  if (!eph_key) return std::unexpected(eph_key.error());
  auto z = ecdh(eph_key->get(), ek->get());
  if (!z) return std::unexpected(z.error());
  // PartyUInfo = Qe.x as sent, PartyVInfo = Qs.x as the TPM stores it (Part 1 Annex C.6).
  auto seed = kdfe(key.name_alg, *z, use, eph->x, key.ecc_x, hashAlgSize(key.name_alg) * 8);
  OPENSSL_cleanse(z->data(), z->size());
  if (!seed) return std::unexpected(seed.error());
  Bytes point;  // TPMS_ECC_POINT (Part 2 §11.2.5.2): TPM2B x || TPM2B y
  appendTpm2b(point, eph->x);
  appendTpm2b(point, eph->y);
  return SharedSeed{std::move(*seed), tpm2b(point)};
}

}  // namespace

Result<SharedSeed> shareSeed(const TpmPublic& key, std::string_view use, Rng& rng) {
  return key.type == KeyType::kRsa ? shareRsa(key, use, rng) : shareEcc(key, use, rng);
}

}  // namespace bulwark::attest
