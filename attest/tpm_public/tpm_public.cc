#include "attest/tpm_public/tpm_public.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include <string_view>

namespace bulwark::attest {

void EvpPkeyDeleter::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

std::string opensslErrors() {
  std::string out;
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("no OpenSSL error recorded") : out;
}

namespace {

Result<TpmPublic> fromTpmt(const TPMT_PUBLIC& t, ByteView tpmt_bytes) {
  TpmPublic pub;
  auto name_alg = hashAlgFromId(t.nameAlg);
  if (!name_alg) {
    return fail(ErrorCode::kUnsupported, "nameAlg 0x" + toHex(Bytes{
        static_cast<std::uint8_t>(t.nameAlg >> 8), static_cast<std::uint8_t>(t.nameAlg)}));
  }
  pub.name_alg = *name_alg;
  pub.attributes = t.objectAttributes;
  pub.auth_policy.assign(t.authPolicy.buffer, t.authPolicy.buffer + t.authPolicy.size);
  pub.tpmt_public.assign(tpmt_bytes.begin(), tpmt_bytes.end());
  if (t.type == TPM2_ALG_RSA) {
    const auto& p = t.parameters.rsaDetail;
    pub.type = KeyType::kRsa;
    pub.sym_alg = p.symmetric.algorithm;
    if (p.symmetric.algorithm != TPM2_ALG_NULL) pub.sym_key_bits = p.symmetric.keyBits.sym;
    pub.scheme = p.scheme.scheme;
    if (p.scheme.scheme != TPM2_ALG_NULL) pub.scheme_hash = p.scheme.details.anySig.hashAlg;
    pub.rsa_bits = p.keyBits;
    pub.rsa_exponent = p.exponent;
    pub.rsa_modulus.assign(t.unique.rsa.buffer, t.unique.rsa.buffer + t.unique.rsa.size);
    if (pub.rsa_modulus.empty() || pub.rsa_modulus.size() * 8 != pub.rsa_bits) {
      return fail(ErrorCode::kMalformed, "RSA modulus size does not match keyBits");
    }
  } else if (t.type == TPM2_ALG_ECC) {
    const auto& p = t.parameters.eccDetail;
    pub.type = KeyType::kEcc;
    pub.sym_alg = p.symmetric.algorithm;
    if (p.symmetric.algorithm != TPM2_ALG_NULL) pub.sym_key_bits = p.symmetric.keyBits.sym;
    pub.scheme = p.scheme.scheme;
    if (p.scheme.scheme != TPM2_ALG_NULL) pub.scheme_hash = p.scheme.details.anySig.hashAlg;
    pub.curve = p.curveID;
    pub.ecc_x.assign(t.unique.ecc.x.buffer, t.unique.ecc.x.buffer + t.unique.ecc.x.size);
    pub.ecc_y.assign(t.unique.ecc.y.buffer, t.unique.ecc.y.buffer + t.unique.ecc.y.size);
  } else {
    return fail(ErrorCode::kUnsupported, "public area type is neither RSA nor ECC");
  }
  return pub;
}

}  // namespace

Result<TpmPublic> parseTpmtPublic(ByteView bytes) {
  TPMT_PUBLIC t{};
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(bytes.data(), bytes.size(), &off, &t);
  if (rc != TSS2_RC_SUCCESS) return fail(ErrorCode::kMalformed, "not a valid TPMT_PUBLIC");
  if (off != bytes.size()) {
    return fail(ErrorCode::kMalformed, "trailing bytes after TPMT_PUBLIC");
  }
  return fromTpmt(t, bytes);
}

Result<TpmPublic> parseTpm2bPublic(ByteView bytes) {
  TPM2B_PUBLIC b{};
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(bytes.data(), bytes.size(), &off, &b);
  if (rc != TSS2_RC_SUCCESS) return fail(ErrorCode::kMalformed, "not a valid TPM2B_PUBLIC");
  if (off != bytes.size()) {
    return fail(ErrorCode::kMalformed, "trailing bytes after TPM2B_PUBLIC");
  }
  if (b.size + 2u != bytes.size()) {
    return fail(ErrorCode::kMalformed, "TPM2B_PUBLIC size field disagrees with content");
  }
  return fromTpmt(b.publicArea, bytes.subspan(2));
}

Bytes objectName(const TpmPublic& pub) {
  auto alg = static_cast<std::uint16_t>(pub.name_alg);
  Bytes name{static_cast<std::uint8_t>(alg >> 8), static_cast<std::uint8_t>(alg)};
  Bytes h = digest(pub.name_alg, pub.tpmt_public);
  name.insert(name.end(), h.begin(), h.end());
  return name;
}

namespace {

struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamsDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

Result<EvpPkeyPtr> fromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamsDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type,
                                                                               nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_PKEY_fromdata");
  }
  return EvpPkeyPtr(raw);
}

}  // namespace

Result<EvpPkeyPtr> toEvpPkey(const TpmPublic& pub) {
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld) return fail(ErrorCode::kCrypto, opensslErrors(), "OSSL_PARAM_BLD_new");
  if (pub.type == KeyType::kRsa) {
    std::unique_ptr<BIGNUM, BnDeleter> n(
        BN_bin2bn(pub.rsa_modulus.data(), static_cast<int>(pub.rsa_modulus.size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> e(BN_new());
    if (!n || !e || BN_set_word(e.get(), pub.rsa_exponent ? pub.rsa_exponent : 65537) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
      return fail(ErrorCode::kCrypto, opensslErrors(), "RSA public key");
    }
    return fromData("RSA", bld.get());
  }
  const char* group = nullptr;
  std::size_t coord = 0;
  if (pub.curve == kEccNistP256) {
    group = "P-256";
    coord = 32;
  } else if (pub.curve == kEccNistP384) {
    group = "P-384";
    coord = 48;
  } else {
    return fail(ErrorCode::kUnsupported, "ECC curve " + std::to_string(pub.curve));
  }
  if (pub.ecc_x.size() > coord || pub.ecc_y.size() > coord) {
    return fail(ErrorCode::kMalformed, "ECC point coordinate longer than the curve size");
  }
  // Uncompressed SEC1 point: 0x04 || X || Y, coordinates left-padded to the curve size.
  Bytes point(1 + 2 * coord, 0);
  point[0] = 0x04;
  std::copy(pub.ecc_x.begin(), pub.ecc_x.end(), point.begin() + 1 + coord - pub.ecc_x.size());
  std::copy(pub.ecc_y.begin(), pub.ecc_y.end(), point.end() - pub.ecc_y.size());
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "EC public key");
  }
  auto key = fromData("EC", bld.get());
  if (!key) return fail(ErrorCode::kMalformed, "ECC point is not on the curve");
  return key;
}

Result<EvpPkeyPtr> parsePemPublicKey(ByteView pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return fail(ErrorCode::kCrypto, opensslErrors(), "BIO_new_mem_buf");
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    ERR_clear_error();
    return fail(ErrorCode::kMalformed, "not a PEM public key");
  }
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> loadPublicKey(ByteView bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    return parsePemPublicKey(bytes);
  }
  auto pub = parseTpm2bPublic(bytes);
  if (!pub) return std::unexpected(pub.error().within("AK public key (neither PEM nor TPM2B_PUBLIC)"));
  return toEvpPkey(*pub);
}

}  // namespace bulwark::attest
