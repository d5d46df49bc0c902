#include "attest/core/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace bulwark {

std::string_view hashAlgName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return "sha1";
    case HashAlg::kSha256: return "sha256";
    case HashAlg::kSha384: return "sha384";
    case HashAlg::kSha512: return "sha512";
  }
  return "unknown";
}

std::optional<HashAlg> hashAlgFromName(std::string_view name) {
  for (HashAlg alg : kAllHashAlgs) {
    if (hashAlgName(alg) == name) return alg;
  }
  return std::nullopt;
}

std::optional<HashAlg> hashAlgFromId(std::uint16_t tpm_alg_id) {
  for (HashAlg alg : kAllHashAlgs) {
    if (static_cast<std::uint16_t>(alg) == tpm_alg_id) return alg;
  }
  return std::nullopt;
}

std::size_t hashAlgSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return 20;
    case HashAlg::kSha256: return 32;
    case HashAlg::kSha384: return 48;
    case HashAlg::kSha512: return 64;
  }
  return 0;
}

const EVP_MD* hashAlgMd(HashAlg alg) {
  // Fetched once; OpenSSL keeps these for the process lifetime.
  static const EVP_MD* const kMds[] = {
      EVP_MD_fetch(nullptr, "SHA1", nullptr), EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr), EVP_MD_fetch(nullptr, "SHA512", nullptr)};
  switch (alg) {
    case HashAlg::kSha1: return kMds[0];
    case HashAlg::kSha256: return kMds[1];
    case HashAlg::kSha384: return kMds[2];
    case HashAlg::kSha512: return kMds[3];
  }
  return nullptr;
}

Bytes digest(HashAlg alg, ByteView data) {
  Bytes out(hashAlgSize(alg));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, hashAlgMd(alg), nullptr) != 1) {
    std::abort();  // a digest of in-memory bytes cannot fail unless OpenSSL is broken
  }
  return out;
}

Hasher::Hasher(HashAlg alg) : alg_(alg), ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, hashAlgMd(alg_), nullptr) != 1) std::abort();
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

Hasher::Hasher(const Hasher& other) : alg_(other.alg_), ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_MD_CTX_copy_ex(ctx_, other.ctx_) != 1) std::abort();
}

Hasher& Hasher::operator=(const Hasher& other) {
  if (this != &other) {
    alg_ = other.alg_;
    if (EVP_MD_CTX_copy_ex(ctx_, other.ctx_) != 1) std::abort();
  }
  return *this;
}

Bytes Hasher::peek() const { return Hasher(*this).finish(); }

Hasher& Hasher::update(ByteView data) {
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) std::abort();
  return *this;
}

Bytes Hasher::finish() {
  Bytes out(hashAlgSize(alg_));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1) std::abort();
  if (EVP_DigestInit_ex(ctx_, hashAlgMd(alg_), nullptr) != 1) std::abort();
  return out;
}

Bytes pcrExtend(HashAlg alg, ByteView old_value, ByteView digest_value) {
  Hasher h(alg);
  h.update(old_value).update(digest_value);
  return h.finish();
}

}  // namespace bulwark
