#include "attest/credential/kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

#include "attest/tpm_public/tpm_public.h"

namespace bulwark::attest {
namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};

Result<std::size_t> outputBytes(std::size_t bits) {
  if (bits == 0 || bits % 8 != 0 || bits > (1u << 20)) {
    return fail(ErrorCode::kInvalidArgument,
                "KDF output must be a positive multiple of 8 bits, got " + std::to_string(bits));
  }
  return bits / 8;
}

// OSSL_PARAM octet strings want a non-const pointer (they are read-only for derive).
void* octets(ByteView v) {
  static std::uint8_t empty = 0;
  return v.empty() ? &empty : const_cast<std::uint8_t*>(v.data());
}

Result<Bytes> derive(const char* kdf_name, const OSSL_PARAM* params, std::size_t n) {
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, kdf_name, nullptr));
  if (!kdf) return fail(ErrorCode::kCrypto, opensslErrors(), std::string("EVP_KDF_fetch ") + kdf_name);
  std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  Bytes out(n);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), kdf_name);
  }
  return out;
}

char* mdName(HashAlg alg) {
  // hashAlgName() yields "sha256" etc., which OpenSSL's default provider accepts.
  return const_cast<char*>(hashAlgName(alg).data());
}

}  // namespace

Result<Bytes> kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                   ByteView context_v, std::size_t bits) {
  auto n = outputBytes(bits);
  if (!n) return std::unexpected(n.error());
  Bytes context(context_u.begin(), context_u.end());
  context.insert(context.end(), context_v.begin(), context_v.end());
  char mode[] = "counter";
  char mac[] = "HMAC";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode, 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac, 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, mdName(alg), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, octets(key), key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, octets(asBytes(label)),
                                        label.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, octets(context), context.size()),
      OSSL_PARAM_construct_end(),
  };
  return derive("KBKDF", params, *n);
}

Result<Bytes> kdfe(HashAlg alg, ByteView z, std::string_view use, ByteView party_u,
                   ByteView party_v, std::size_t bits) {
  auto n = outputBytes(bits);
  if (!n) return std::unexpected(n.error());
  // FixedInfo = Use || 0x00 || PartyUInfo || PartyVInfo (Part 1 §11.4.10.3).
  Bytes info(use.begin(), use.end());
  info.push_back(0);
  info.insert(info.end(), party_u.begin(), party_u.end());
  info.insert(info.end(), party_v.begin(), party_v.end());
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, mdName(alg), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, octets(z), z.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, octets(info), info.size()),
      OSSL_PARAM_construct_end(),
  };
  return derive("SSKDF", params, *n);
}

}  // namespace bulwark::attest
