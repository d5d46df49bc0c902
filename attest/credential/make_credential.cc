#include "attest/credential/make_credential.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "attest/credential/kdf.h"
#include "attest/credential/secret_share.h"

namespace bulwark::attest {
namespace {

constexpr std::uint16_t kAlgAes = 0x0006;
constexpr std::uint32_t kCredentialMagic = 0xBADCC0DE;
constexpr std::uint32_t kCredentialVersion = 1;

void putU16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void putU32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Wipes derived keys when they go out of scope.
struct Secret {
  Bytes bytes;
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct CipherDeleter {
  void operator()(EVP_CIPHER* p) const { EVP_CIPHER_free(p); }
};

// AES-CFB (full-block feedback, CFB128) with a zero IV, as Part 1 §24.4 requires.
Result<Bytes> aesCfbEncrypt(ByteView key, ByteView plain) {
  std::string name = "AES-" + std::to_string(key.size() * 8) + "-CFB";
  std::unique_ptr<EVP_CIPHER, CipherDeleter> cipher(EVP_CIPHER_fetch(nullptr, name.c_str(),
                                                                     nullptr));
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  const std::uint8_t iv[16] = {};
  Bytes out(plain.size() + 16);
  int len = 0;
  int tail = 0;
  if (!cipher || !ctx ||
      EVP_EncryptInit_ex2(ctx.get(), cipher.get(), key.data(), iv, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plain.data(),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail) != 1) {
    return fail(ErrorCode::kCrypto, opensslErrors(), name);
  }
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

Result<Bytes> hmac(HashAlg alg, ByteView key, ByteView data) {
  Bytes out(hashAlgSize(alg));
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, hashAlgName(alg).data(), nullptr, key.data(), key.size(),
                data.data(), data.size(), out.data(), out.size(), &len) == nullptr ||
      len != out.size()) {
    return fail(ErrorCode::kCrypto, opensslErrors(), "HMAC");
  }
  return out;
}

Result<void> checkEk(const TpmPublic& ek) {
  // TPM2_MakeCredential/ActivateCredential accept only an asymmetric restricted
  // decryption key (Part 3 §12.5, §12.6: TPM_RC_TYPE otherwise). Its symmetric
  // definition fixes the credential cipher (Part 1 §24.4); the TPM only creates
  // restricted decryption keys with CFB mode, so TpmPublic need not carry the mode.
  if (!ek.has(object_attr::kRestricted) || !ek.has(object_attr::kDecrypt) ||
      ek.has(object_attr::kSign)) {
    return fail(ErrorCode::kInvalidArgument, "EK is not a restricted decryption key");
  }
  if (ek.sym_alg != kAlgAes) {
    return fail(ErrorCode::kInvalidArgument, "EK symmetric algorithm is not AES");
  }
  if (ek.sym_key_bits != 128 && ek.sym_key_bits != 192 && ek.sym_key_bits != 256) {
    return fail(ErrorCode::kInvalidArgument,
                "EK AES key size " + std::to_string(ek.sym_key_bits) + " bits");
  }
  return {};
}

Result<void> checkSecret(HashAlg name_alg, ByteView secret) {
  if (secret.empty()) return fail(ErrorCode::kInvalidArgument, "credential secret is empty");
  if (secret.size() > hashAlgSize(name_alg)) {
    return fail(ErrorCode::kInvalidArgument,
                "credential secret is " + std::to_string(secret.size()) +
                    " bytes, more than the EK nameAlg digest (" +
                    std::to_string(hashAlgSize(name_alg)) + ")");
  }
  return {};
}

}  // namespace

Result<HashAlg> checkObjectName(ByteView name) {
  if (name.size() < 2) return fail(ErrorCode::kInvalidArgument, "object Name shorter than 2 bytes");
  auto alg = hashAlgFromId(static_cast<std::uint16_t>((name[0] << 8) | name[1]));
  if (!alg) {
    return fail(ErrorCode::kInvalidArgument,
                "object Name algorithm 0x" + toHex(name.first(2)) + " is not a known hash");
  }
  if (name.size() != 2 + hashAlgSize(*alg)) {
    return fail(ErrorCode::kInvalidArgument,
                "object Name is " + std::to_string(name.size()) + " bytes, expected " +
                    std::to_string(2 + hashAlgSize(*alg)) + " for " +
                    std::string(hashAlgName(*alg)));
  }
  return *alg;
}

Result<Bytes> protectCredential(HashAlg ek_name_alg, std::uint16_t sym_key_bits, ByteView seed,
                                ByteView ak_name, ByteView secret) {
  if (auto n = checkObjectName(ak_name); !n) return std::unexpected(n.error());
  if (auto s = checkSecret(ek_name_alg, secret); !s) return std::unexpected(s.error());
  if (sym_key_bits != 128 && sym_key_bits != 192 && sym_key_bits != 256) {
    return fail(ErrorCode::kInvalidArgument, "AES key size " + std::to_string(sym_key_bits));
  }
  auto sym_key = kdfa(ek_name_alg, seed, "STORAGE", ak_name, {}, sym_key_bits);
  if (!sym_key) return std::unexpected(sym_key.error());
  Secret sym{std::move(*sym_key)};
  Secret plain;  // the credential value as a marshalled TPM2B_DIGEST
  putU16(plain.bytes, secret.size());
  plain.bytes.insert(plain.bytes.end(), secret.begin(), secret.end());
  auto enc_identity = aesCfbEncrypt(sym.bytes, plain.bytes);
  if (!enc_identity) return std::unexpected(enc_identity.error());

  auto hmac_key = kdfa(ek_name_alg, seed, "INTEGRITY", {}, {}, hashAlgSize(ek_name_alg) * 8);
  if (!hmac_key) return std::unexpected(hmac_key.error());
  Secret hkey{std::move(*hmac_key)};
  Bytes mac_input = *enc_identity;
  mac_input.insert(mac_input.end(), ak_name.begin(), ak_name.end());
  auto outer_hmac = hmac(ek_name_alg, hkey.bytes, mac_input);
  if (!outer_hmac) return std::unexpected(outer_hmac.error());

  // TPM2B_ID_OBJECT = size || TPM2B_DIGEST(outerHMAC) || encIdentity (Part 2 §12.4.3;
  // encIdentity carries its own, encrypted, size field).
  Bytes id_object;
  putU16(id_object, 2 + outer_hmac->size() + enc_identity->size());
  putU16(id_object, outer_hmac->size());
  id_object.insert(id_object.end(), outer_hmac->begin(), outer_hmac->end());
  id_object.insert(id_object.end(), enc_identity->begin(), enc_identity->end());
  return id_object;
}

Result<Credential> makeCredential(const TpmPublic& ek, ByteView ak_name, ByteView secret,
                                  Rng& rng) {
  if (auto e = checkEk(ek); !e) return std::unexpected(e.error().within("makeCredential"));
  if (auto n = checkObjectName(ak_name); !n) {
    return std::unexpected(n.error().within("makeCredential: AK name"));
  }
  if (auto s = checkSecret(ek.name_alg, secret); !s) {
    return std::unexpected(s.error().within("makeCredential"));
  }
  auto shared = shareSeed(ek, "IDENTITY", rng);
  if (!shared) return std::unexpected(shared.error().within("makeCredential: seed"));
  Secret seed{std::move(shared->seed)};
  auto id_object = protectCredential(ek.name_alg, ek.sym_key_bits, seed.bytes, ak_name, secret);
  if (!id_object) return std::unexpected(id_object.error().within("makeCredential"));
  return Credential{std::move(*id_object), std::move(shared->encrypted_secret)};
}

Result<Credential> makeCredential(const TpmPublic& ek, ByteView ak_name, ByteView secret) {
  return makeCredential(ek, ak_name, secret, defaultRng());
}

Bytes toTpm2ToolsCredentialFile(const Credential& credential) {
  Bytes out;
  putU32(out, kCredentialMagic);
  putU32(out, kCredentialVersion);
  out.insert(out.end(), credential.id_object.begin(), credential.id_object.end());
  out.insert(out.end(), credential.encrypted_secret.begin(), credential.encrypted_secret.end());
  return out;
}

namespace {

Result<Bytes> takeTpm2b(ByteView& in, const char* what) {
  if (in.size() < 2) return fail(ErrorCode::kMalformed, std::string("truncated ") + what);
  std::size_t n = (std::size_t{in[0]} << 8) | in[1];
  if (in.size() < 2 + n) return fail(ErrorCode::kMalformed, std::string("truncated ") + what);
  Bytes out(in.begin(), in.begin() + static_cast<long>(2 + n));
  in = in.subspan(2 + n);
  return out;
}

std::uint32_t getU32(ByteView in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) |
         (std::uint32_t{in[2]} << 8) | in[3];
}

}  // namespace

Result<Credential> parseTpm2ToolsCredentialFile(ByteView file) {
  if (file.size() < 8) return fail(ErrorCode::kMalformed, "credential file shorter than its header");
  if (getU32(file) != kCredentialMagic) {
    return fail(ErrorCode::kMalformed, "credential file magic is not 0xBADCC0DE");
  }
  if (getU32(file.subspan(4)) != kCredentialVersion) {
    return fail(ErrorCode::kMalformed, "credential file version is not 1");
  }
  ByteView rest = file.subspan(8);
  auto id_object = takeTpm2b(rest, "TPM2B_ID_OBJECT");
  if (!id_object) return std::unexpected(id_object.error());
  auto secret = takeTpm2b(rest, "TPM2B_ENCRYPTED_SECRET");
  if (!secret) return std::unexpected(secret.error());
  if (!rest.empty()) return fail(ErrorCode::kMalformed, "trailing bytes after the credential");
  return Credential{std::move(*id_object), std::move(*secret)};
}

}  // namespace bulwark::attest
