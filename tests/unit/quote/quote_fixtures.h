// Test helpers for the quote module: the real tpm2-tools fixtures in
// tests/testdata/quote, and software-signed TPMS_ATTEST variants (for checks a real
// TPM never lets us reach with a valid signature: wrong magic, wrong type, SHA-1).
#pragma once

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/quote/ak_key.h"
#include "attest/quote/marshal.h"
#include "attest/quote/quote_verifier.h"
#include "attest/quote/tpm2_tools_pcrs.h"

namespace bulwark::attest::testing {

inline std::string quoteDataDir() {
  const char* src = std::getenv("BULWARK_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/testdata/quote/";
}

inline Bytes readFixture(const std::string& name) {
  auto b = readFile(quoteDataDir() + name);
  if (!b) ADD_FAILURE() << "missing fixture " << name << ": " << b.error().toString();
  return b ? *b : Bytes{};
}

// One tpm2_quote output set (see tests/testdata/quote/README.md).
struct Fixture {
  std::string prefix;
  Bytes ak_pem, ak_pub, msg, sig;
  Tpm2ToolsPcrs pcrs;
  Bytes nonce;

  static Fixture load(const std::string& prefix) {
    Fixture f;
    f.prefix = prefix;
    f.ak_pem = readFixture(prefix + ".ak.pem");
    f.ak_pub = readFixture(prefix + ".ak.pub");
    f.msg = readFixture(prefix + ".msg");
    f.sig = readFixture(prefix + ".sig");
    auto pcrs = parseTpm2ToolsPcrs(readFixture(prefix + ".pcrs"));
    if (!pcrs) ADD_FAILURE() << prefix << ".pcrs: " << pcrs.error().toString();
    if (pcrs) f.pcrs = *pcrs;
    Bytes hex = readFixture("nonce.hex");
    std::string text(hex.begin(), hex.end());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    auto nonce = fromHex(text);
    if (nonce) f.nonce = *nonce;
    return f;
  }
};

inline QuoteVerifier verifierFor(ByteView ak) {
  auto key = AkKey::load(ak);
  EXPECT_TRUE(key.has_value()) << (key ? "" : key.error().toString());
  auto v = QuoteVerifier::create(*key);
  EXPECT_TRUE(v.has_value());
  return std::move(*v);
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey makeRsaKey() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})); }
inline Pkey makeEcKey() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// Signs `attest` the way a TPM would: `scheme` over H_hash(attest).
inline TPMT_SIGNATURE softwareSign(EVP_PKEY* key, std::uint16_t scheme, HashAlg hash,
                                   ByteView attest, int pss_salt = RSA_PSS_SALTLEN_DIGEST) {
  TPMT_SIGNATURE out{};
  out.sigAlg = scheme;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx, &pctx, hashAlgMd(hash), nullptr, key), 1);
  if (scheme == TPM2_ALG_RSAPSS) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt);
  }
  std::size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, attest.data(), attest.size()), 1);
  Bytes sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx, sig.data(), &len, attest.data(), attest.size()), 1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (scheme == TPM2_ALG_ECDSA) {
    out.signature.ecdsa.hash = static_cast<std::uint16_t>(hash);
    const std::uint8_t* p = sig.data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    out.signature.ecdsa.signatureR.size = static_cast<std::uint16_t>(
        BN_bn2binpad(ECDSA_SIG_get0_r(es), out.signature.ecdsa.signatureR.buffer, 32));
    out.signature.ecdsa.signatureS.size = static_cast<std::uint16_t>(
        BN_bn2binpad(ECDSA_SIG_get0_s(es), out.signature.ecdsa.signatureS.buffer, 32));
    ECDSA_SIG_free(es);
  } else {
    out.signature.rsassa.hash = static_cast<std::uint16_t>(hash);
    out.signature.rsassa.sig.size = static_cast<std::uint16_t>(sig.size());
    std::copy(sig.begin(), sig.end(), out.signature.rsassa.sig.buffer);
  }
  return out;
}

inline TPMS_ATTEST parseAttest(ByteView bytes) {
  TPMS_ATTEST a{};
  auto ok = unmarshalAttest(bytes, a);
  EXPECT_TRUE(ok.has_value());
  return a;
}

inline Bytes marshal(const TPMS_ATTEST& a) {
  auto b = marshalAttest(a);
  EXPECT_TRUE(b.has_value());
  return b ? *b : Bytes{};
}

inline Bytes marshal(const TPMT_SIGNATURE& s) {
  auto b = marshalSignature(s);
  EXPECT_TRUE(b.has_value());
  return b ? *b : Bytes{};
}

}  // namespace bulwark::attest::testing
