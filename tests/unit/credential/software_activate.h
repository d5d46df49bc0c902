// Test helper: TPM2_ActivateCredential done in software with the EK private key
// (TPM 2.0 Part 3 §12.5 semantics): recover the seed, check the outer HMAC over
// encIdentity || Name, then decrypt the credential. Written against the spec, not
// against attest/credential's internals; only KDFa/KDFe are shared (they have their
// own known-answer tests).
#pragma once

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <string>

#include "attest/credential/kdf.h"
#include "attest/credential/make_credential.h"
#include "tests/unit/credential/software_ek.h"

namespace bulwark::attest::testing {

// Splits a TPM2B off the front of `in`.
inline Result<Bytes> popTpm2b(ByteView& in) {
  if (in.size() < 2) return fail(ErrorCode::kMalformed, "short TPM2B");
  std::size_t n = (std::size_t{in[0]} << 8) | in[1];
  if (in.size() < 2 + n) return fail(ErrorCode::kMalformed, "TPM2B overruns");
  Bytes out(in.begin() + 2, in.begin() + 2 + static_cast<long>(n));
  in = in.subspan(2 + n);
  return out;
}

inline Result<Bytes> recoverRsaSeed(const SoftwareEk& ek, ByteView cipher) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, ek.key.get(), nullptr);
  const EVP_MD* md = hashAlgMd(ek.pub.name_alg);
  auto* label = static_cast<unsigned char*>(OPENSSL_memdup("IDENTITY", 9));  // NUL included
  Bytes seed(512);
  std::size_t len = seed.size();
  bool ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
            EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, 9) == 1 &&
            EVP_PKEY_decrypt(ctx, seed.data(), &len, cipher.data(), cipher.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return fail(ErrorCode::kCrypto, "OAEP decryption failed: " + opensslErrors());
  seed.resize(len);
  return seed;
}

inline Result<Bytes> recoverEccSeed(const SoftwareEk& ek, ByteView point) {
  ByteView rest = point;
  auto x = popTpm2b(rest);
  auto y = popTpm2b(rest);
  if (!x || !y || !rest.empty()) return fail(ErrorCode::kMalformed, "bad TPMS_ECC_POINT");
  TpmPublic peer;
  peer.type = KeyType::kEcc;
  peer.curve = ek.pub.curve;
  peer.ecc_x = *x;
  peer.ecc_y = *y;
  auto peer_key = toEvpPkey(peer);
  if (!peer_key) return std::unexpected(peer_key.error());
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, ek.key.get(), nullptr);
  Bytes z(66);
  std::size_t len = z.size();
  bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
            EVP_PKEY_derive_set_peer(ctx, peer_key->get()) == 1 &&
            EVP_PKEY_derive(ctx, z.data(), &len) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return fail(ErrorCode::kCrypto, "ECDH failed: " + opensslErrors());
  z.resize(len);
  return kdfe(ek.pub.name_alg, z, "IDENTITY", *x, ek.pub.ecc_x,
              hashAlgSize(ek.pub.name_alg) * 8);
}

inline Result<Bytes> aesCfbDecrypt(ByteView key, ByteView cipher) {
  std::string name = "AES-" + std::to_string(key.size() * 8) + "-CFB";
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const std::uint8_t iv[16] = {};
  Bytes out(cipher.size() + 16);
  int len = 0, tail = 0;
  bool ok = c && ctx && EVP_DecryptInit_ex2(ctx, c, key.data(), iv, nullptr) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &len, cipher.data(),
                              static_cast<int>(cipher.size())) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data() + len, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(c);
  if (!ok) return fail(ErrorCode::kCrypto, name + " failed");
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

// Part 1 §24.4-24.5 in reverse. kCrypto "integrity" when the HMAC does not match
// (what the TPM reports as TPM_RC_INTEGRITY).
inline Result<Bytes> unprotect(const TpmPublic& ek, ByteView seed, ByteView name,
                               ByteView id_object) {
  ByteView in = id_object;
  auto body = popTpm2b(in);
  if (!body || !in.empty()) return fail(ErrorCode::kMalformed, "bad TPM2B_ID_OBJECT");
  ByteView rest = *body;
  auto outer = popTpm2b(rest);
  if (!outer) return fail(ErrorCode::kMalformed, "bad integrityHMAC");
  Bytes enc_identity(rest.begin(), rest.end());
  auto hkey = kdfa(ek.name_alg, seed, "INTEGRITY", {}, {}, hashAlgSize(ek.name_alg) * 8);
  if (!hkey) return std::unexpected(hkey.error());
  Bytes mac_in = enc_identity;
  mac_in.insert(mac_in.end(), name.begin(), name.end());
  Bytes mac(64);
  std::size_t mac_len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, hashAlgName(ek.name_alg).data(), nullptr, hkey->data(),
            hkey->size(), mac_in.data(), mac_in.size(), mac.data(), mac.size(), &mac_len);
  mac.resize(mac_len);
  if (!constantTimeEqual(mac, *outer)) return fail(ErrorCode::kCrypto, "integrity");
  auto sym = kdfa(ek.name_alg, seed, "STORAGE", name, {}, ek.sym_key_bits);
  if (!sym) return std::unexpected(sym.error());
  auto plain = aesCfbDecrypt(*sym, enc_identity);
  if (!plain) return std::unexpected(plain.error());
  ByteView p = *plain;
  auto secret = popTpm2b(p);
  if (!secret || !p.empty()) return fail(ErrorCode::kMalformed, "bad credential TPM2B_DIGEST");
  return secret;
}

inline Result<Bytes> recoverSeed(const SoftwareEk& ek, ByteView encrypted_secret) {
  ByteView in = encrypted_secret;
  auto inner = popTpm2b(in);
  if (!inner || !in.empty()) return fail(ErrorCode::kMalformed, "bad TPM2B_ENCRYPTED_SECRET");
  return ek.pub.type == KeyType::kRsa ? recoverRsaSeed(ek, *inner) : recoverEccSeed(ek, *inner);
}

inline Result<Bytes> softwareActivate(const SoftwareEk& ek, const Credential& credential,
                                      ByteView ak_name) {
  auto seed = recoverSeed(ek, credential.encrypted_secret);
  if (!seed) return std::unexpected(seed.error());
  return unprotect(ek.pub, *seed, ak_name, credential.id_object);
}

}  // namespace bulwark::attest::testing
