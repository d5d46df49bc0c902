// Hash algorithms as the TPM names them (TPM 2.0 Part 2 §6.3 TPM_ALG_ID) and
// one-shot / incremental digests through OpenSSL EVP. The EVP_MD objects are
// fetched once per process, so hot paths do not pay the provider lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "attest/core/bytes.h"

typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace bulwark {

enum class HashAlg : std::uint16_t {
  kSha1 = 0x0004,
  kSha256 = 0x000B,
  kSha384 = 0x000C,
  kSha512 = 0x000D,
};

inline constexpr HashAlg kAllHashAlgs[] = {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384,
                                           HashAlg::kSha512};

// "sha1", "sha256", ... (the names systemd's CEL JSON and tpm2-tools use).
std::string_view hashAlgName(HashAlg alg);
std::optional<HashAlg> hashAlgFromName(std::string_view name);
std::optional<HashAlg> hashAlgFromId(std::uint16_t tpm_alg_id);
std::size_t hashAlgSize(HashAlg alg);
const EVP_MD* hashAlgMd(HashAlg alg);

Bytes digest(HashAlg alg, ByteView data);
inline Bytes sha256(ByteView data) { return digest(HashAlg::kSha256, data); }

// Incremental hashing; reusable after finish(). A copy forks the state (e.g. a log
// prefix's hash, extended later by what is appended).
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  ~Hasher();
  Hasher(const Hasher& other);
  Hasher& operator=(const Hasher& other);

  Hasher& update(ByteView data);
  Bytes finish();        // returns the digest and resets for reuse
  Bytes peek() const;    // the digest so far; the state is left as it was

 private:
  HashAlg alg_;
  EVP_MD_CTX* ctx_;
};

// PCR extend in software: new = H(old || data_digest). TPM 2.0 Part 1 §17.
Bytes pcrExtend(HashAlg alg, ByteView old_value, ByteView digest_value);

}  // namespace bulwark
