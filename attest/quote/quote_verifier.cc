#include "attest/quote/quote_verifier.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "attest/quote/marshal.h"

namespace bulwark::attest {

namespace {

// Largest ECDSA scalar we accept (P-521: 66 bytes); bigger cannot be valid.
constexpr std::size_t kMaxEcdsaScalar = 66;

std::string hex32(std::uint32_t v) {
  Bytes b{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  return "0x" + toHex(b);
}

std::string hashIdName(std::uint16_t id) {
  if (auto h = hashAlgFromId(id)) return std::string(hashAlgName(*h));
  return "0x" + toHex(Bytes{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)});
}

bool schemeFitsKey(std::uint16_t scheme, KeyType type) {
  if (type == KeyType::kRsa) return scheme == TPM2_ALG_RSASSA || scheme == TPM2_ALG_RSAPSS;
  return scheme == TPM2_ALG_ECDSA;
}

// The hash a signature names: the first member of every asymmetric scheme's
// union arm is TPMI_ALG_HASH (Part 2 §11.3.1-11.3.3).
std::optional<std::uint16_t> signatureHashId(const TPMT_SIGNATURE& sig) {
  switch (sig.sigAlg) {
    case TPM2_ALG_RSASSA: return sig.signature.rsassa.hash;
    case TPM2_ALG_RSAPSS: return sig.signature.rsapss.hash;
    case TPM2_ALG_ECDSA: return sig.signature.ecdsa.hash;
    default: return std::nullopt;
  }
}

std::string formatSelection(const TPML_PCR_SELECTION& sel) {
  std::string out;
  for (std::uint32_t i = 0; i < sel.count && i < TPM2_NUM_PCR_BANKS; ++i) {
    const TPMS_PCR_SELECTION& b = sel.pcrSelections[i];
    if (!out.empty()) out += '+';
    out += hashIdName(b.hash);
    char sep = ':';
    for (std::uint32_t pcr = 0; pcr < b.sizeofSelect * 8u && pcr < kMaxPcrs; ++pcr) {
      if ((b.pcrSelect[pcr / 8] & (1u << (pcr % 8))) == 0) continue;
      out += sep;
      out += std::to_string(pcr);
      sep = ',';
    }
    if (sep == ':') out += ":none";
  }
  return out.empty() ? "(empty)" : out;
}

bool selectionEquals(const TPML_PCR_SELECTION& quoted, const PcrSelection& requested) {
  if (quoted.count != requested.banks().size()) return false;
  for (std::size_t i = 0; i < requested.banks().size(); ++i) {
    const TPMS_PCR_SELECTION& q = quoted.pcrSelections[i];
    if (q.hash != static_cast<std::uint16_t>(requested.banks()[i].alg)) return false;
    if (q.sizeofSelect > TPM2_PCR_SELECT_MAX) return false;
    std::uint32_t mask = 0;
    for (std::size_t k = 0; k < q.sizeofSelect; ++k) mask |= std::uint32_t{q.pcrSelect[k]} << (8 * k);
    if (mask != requested.banks()[i].mask) return false;
  }
  return true;
}

// Magic, type, extraData and selection: the checks that need no cryptography.
void checkAttestFields(const TPMS_ATTEST& a, const QuoteExpectation& expected,
                       std::vector<Rejection>& reasons) {
  if (a.magic != TPM2_GENERATED_VALUE) {
    reasons.push_back({RejectReason::kAttestMagic,
                       "expected " + hex32(TPM2_GENERATED_VALUE) + ", got " + hex32(a.magic)});
  }
  if (a.type != TPM2_ST_ATTEST_QUOTE) {
    reasons.push_back({RejectReason::kAttestType, "expected " + hex32(TPM2_ST_ATTEST_QUOTE) +
                                                      " (quote), got " + hex32(a.type)});
  }
  ByteView extra(a.extraData.buffer, a.extraData.size);
  if (!constantTimeEqual(extra, expected.qualifying_data)) {
    reasons.push_back({RejectReason::kNonceMismatch,
                       "expected extraData " + toHex(expected.qualifying_data) + ", quoted " +
                           toHex(extra)});
  }
  if (a.type == TPM2_ST_ATTEST_QUOTE &&
      !selectionEquals(a.attested.quote.pcrSelect, *expected.selection)) {
    reasons.push_back({RejectReason::kPcrSelectionMismatch,
                       "requested " + expected.selection->toString() + ", quoted " +
                           formatSelection(a.attested.quote.pcrSelect)});
  }
}

struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

// TPMS_SIGNATURE_ECDSA carries r and s as big-endian integers; OpenSSL verifies
// the DER SEQUENCE { INTEGER r, INTEGER s } (SEC 1 §C.8). Returns the DER length,
// 0 when the values cannot be a signature.
std::size_t ecdsaToDer(const TPMS_SIGNATURE_ECDSA& ecdsa, std::span<std::uint8_t> out) {
  const auto& r = ecdsa.signatureR;
  const auto& s = ecdsa.signatureS;
  if (r.size == 0 || s.size == 0 || r.size > kMaxEcdsaScalar || s.size > kMaxEcdsaScalar) return 0;
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* br = BN_bin2bn(r.buffer, r.size, nullptr);
  BIGNUM* bs = BN_bin2bn(s.buffer, s.size, nullptr);
  if (!sig || br == nullptr || bs == nullptr || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    return 0;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0 || static_cast<std::size_t>(len) > out.size()) return 0;
  std::uint8_t* p = out.data();
  return static_cast<std::size_t>(i2d_ECDSA_SIG(sig.get(), &p));
}

}  // namespace

struct QuoteVerifier::SigCheck {
  std::optional<HashAlg> hash;  // the signing hash when known (pcrDigest uses it)
  std::uint16_t scheme = TPM2_ALG_NULL;
  bool signature_valid = false;  // set only after EVP_PKEY_verify returned 1
};

Result<QuoteVerifier> QuoteVerifier::create(AkKey key) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (md == nullptr) return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_MD_CTX_new");
  return QuoteVerifier(std::move(key), md);
}

QuoteVerifier::QuoteVerifier(AkKey key, EVP_MD_CTX* md_ctx)
    : key_(std::move(key)), md_ctx_(md_ctx) {}

QuoteVerifier::QuoteVerifier(QuoteVerifier&& other) noexcept
    : key_(std::move(other.key_)),
      md_ctx_(std::exchange(other.md_ctx_, nullptr)),
      ctx_cache_(std::exchange(other.ctx_cache_, {})),
      ctx_count_(std::exchange(other.ctx_count_, 0)) {}

QuoteVerifier& QuoteVerifier::operator=(QuoteVerifier&& other) noexcept {
  if (this != &other) {
    release();
    key_ = std::move(other.key_);
    md_ctx_ = std::exchange(other.md_ctx_, nullptr);
    ctx_cache_ = std::exchange(other.ctx_cache_, {});
    ctx_count_ = std::exchange(other.ctx_count_, 0);
  }
  return *this;
}

QuoteVerifier::~QuoteVerifier() { release(); }

void QuoteVerifier::release() {
  for (std::size_t i = 0; i < ctx_count_; ++i) EVP_PKEY_CTX_free(ctx_cache_[i].ctx);
  ctx_count_ = 0;
  EVP_MD_CTX_free(md_ctx_);
  md_ctx_ = nullptr;
}

// One EVP_PKEY_CTX per (scheme, hash), initialised for verification once and then
// reused: EVP_PKEY_verify keeps no per-call state in the RSA and EC providers.
Result<EVP_PKEY_CTX*> QuoteVerifier::verifyCtx(std::uint16_t scheme, HashAlg hash) {
  auto hash_id = static_cast<std::uint16_t>(hash);
  for (std::size_t i = 0; i < ctx_count_; ++i) {
    if (ctx_cache_[i].scheme == scheme && ctx_cache_[i].hash == hash_id) return ctx_cache_[i].ctx;
  }
  if (ctx_count_ == ctx_cache_.size() || key_.pkey() == nullptr) {
    return fail(ErrorCode::kInternal, "verifier context cache exhausted");
  }
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key_.pkey(), nullptr);
  bool ok = ctx != nullptr && EVP_PKEY_verify_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_signature_md(ctx, hashAlgMd(hash)) == 1;
  if (ok && scheme == TPM2_ALG_RSASSA) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
  } else if (ok && scheme == TPM2_ALG_RSAPSS) {
    // TPMs use a salt as long as the digest, older ones the maximum (Part 1 §B.7);
    // AUTO recovers it from the encoded message.
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) == 1;
  }
  if (!ok) {
    EVP_PKEY_CTX_free(ctx);
    return fail(ErrorCode::kCrypto, opensslErrors(), "EVP_PKEY_verify_init");
  }
  ctx_cache_[ctx_count_++] = CachedCtx{scheme, hash_id, ctx};
  return ctx;
}

std::size_t QuoteVerifier::hashInto(HashAlg alg, ByteView data, std::span<std::uint8_t, 64> out) {
  unsigned int len = 0;
  if (EVP_DigestInit_ex(md_ctx_, hashAlgMd(alg), nullptr) != 1 ||
      EVP_DigestUpdate(md_ctx_, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(md_ctx_, out.data(), &len) != 1) {
    std::abort();  // hashing in-memory bytes cannot fail unless OpenSSL is broken
  }
  return len;
}

Result<bool> QuoteVerifier::signatureVerifies(ByteView attest, const TPMT_SIGNATURE& sig,
                                              HashAlg hash) {
  auto ctx = verifyCtx(sig.sigAlg, hash);
  if (!ctx) return std::unexpected(ctx.error());
  std::array<std::uint8_t, 64> digest;
  std::size_t digest_len = hashInto(hash, attest, digest);
  std::array<std::uint8_t, 160> der;
  const std::uint8_t* sig_bytes = nullptr;
  std::size_t sig_len = 0;
  if (sig.sigAlg == TPM2_ALG_ECDSA) {
    sig_len = ecdsaToDer(sig.signature.ecdsa, der);
    sig_bytes = der.data();
  } else {
    // rsassa and rsapss share TPMS_SIGNATURE_RSA.
    sig_bytes = sig.signature.rsassa.sig.buffer;
    sig_len = sig.signature.rsassa.sig.size;
  }
  bool valid = sig_len != 0 &&
               EVP_PKEY_verify(*ctx, sig_bytes, sig_len, digest.data(), digest_len) == 1;
  if (!valid) ERR_clear_error();  // a bad signature is a verdict, not an OpenSSL fault
  return valid;
}

Result<QuoteVerifier::SigCheck> QuoteVerifier::checkSignature(ByteView attest,
                                                              const TPMT_SIGNATURE& sig,
                                                              std::vector<Rejection>& reasons) {
  SigCheck out;
  out.scheme = sig.sigAlg;
  std::optional<std::uint16_t> hash_id = signatureHashId(sig);
  // Names are built only for a rejection or error: the success path allocates no strings.
  auto used = [&] {
    return sigSchemeName(sig.sigAlg) + (hash_id ? "-" + hashIdName(*hash_id) : "");
  };
  bool fits = schemeFitsKey(sig.sigAlg, key_.type());
  if (fits && key_.scheme() != AkKey::kAlgNull) {
    fits = sig.sigAlg == key_.scheme() && hash_id == key_.schemeHash();
  }
  if (hash_id) out.hash = hashAlgFromId(*hash_id);
  if (!fits) {
    reasons.push_back({RejectReason::kSignatureSchemeMismatch,
                       "AK " + key_.describe() + " does not sign " + used()});
    return out;  // the key cannot check this signature at all
  }
  if (!out.hash) return fail(ErrorCode::kUnsupported, "signature hash " + used());
  if (*out.hash == HashAlg::kSha1) {
    reasons.push_back({RejectReason::kSignatureHashWeak,
                       "signature uses " + used() + ", sha256 or stronger required"});
  }
  auto valid = signatureVerifies(attest, sig, *out.hash);
  if (!valid) return std::unexpected(valid.error());
  if (!*valid) {
    reasons.push_back({RejectReason::kSignatureInvalid,
                       used() + " signature does not verify with AK " + key_.describe()});
  }
  out.signature_valid = *valid;
  return out;
}

void QuoteVerifier::checkPcrDigest(const TPMS_ATTEST& attest, HashAlg hash,
                                   const QuoteExpectation& expected,
                                   std::vector<Rejection>& reasons) {
  std::array<std::uint8_t, 64> computed;
  unsigned int len = 0;
  if (EVP_DigestInit_ex(md_ctx_, hashAlgMd(hash), nullptr) != 1) std::abort();
  forEachQuotedValue(*expected.selection, expected.values, [&](ByteView v) {
    if (EVP_DigestUpdate(md_ctx_, v.data(), v.size()) != 1) std::abort();
  });
  if (EVP_DigestFinal_ex(md_ctx_, computed.data(), &len) != 1) std::abort();
  const TPM2B_DIGEST& quoted = attest.attested.quote.pcrDigest;
  ByteView want(computed.data(), len);
  ByteView got(quoted.buffer, quoted.size);
  if (!std::ranges::equal(want, got)) {
    reasons.push_back({RejectReason::kPcrDigestMismatch,
                       "supplied PCR values hash to " + toHex(want) + " (" +
                           std::string(hashAlgName(hash)) + "), quoted " + toHex(got)});
  }
}

Result<QuoteVerdict> QuoteVerifier::verify(ByteView attest_bytes, ByteView signature_bytes,
                                           const QuoteExpectation& expected) {
  if (expected.selection == nullptr || expected.selection->empty()) {
    return fail(ErrorCode::kInvalidArgument, "no PCR selection requested");
  }
  if (auto ok = checkPcrValuesMatch(*expected.selection, expected.values); !ok) {
    return std::unexpected(ok.error().within("supplied PCR values"));
  }
  TPMS_ATTEST attest;
  if (auto ok = unmarshalAttest(attest_bytes, attest); !ok) return std::unexpected(ok.error());
  TPMT_SIGNATURE sig;
  if (auto ok = unmarshalSignature(signature_bytes, sig); !ok) return std::unexpected(ok.error());

  std::vector<Rejection> reasons;
  auto sig_check = checkSignature(attest_bytes, sig, reasons);
  if (!sig_check) return std::unexpected(sig_check.error());
  checkAttestFields(attest, expected, reasons);
  bool selection_ok = attest.type == TPM2_ST_ATTEST_QUOTE &&
                      selectionEquals(attest.attested.quote.pcrSelect, *expected.selection);
  if (selection_ok && sig_check->hash) checkPcrDigest(attest, *sig_check->hash, expected, reasons);
  if (!reasons.empty()) return QuoteVerdict(std::move(reasons));
  // Every check ran and passed; only now may a VerifiedQuote exist. Belt and braces:
  // each positive fact is re-required here, so a future edit that skips a check
  // cannot turn "not checked" into "verified".
  if (!sig_check->signature_valid || !selection_ok || !sig_check->hash) {
    return fail(ErrorCode::kInternal, "a quote check was skipped");
  }
  const TPMS_CLOCK_INFO& c = attest.clockInfo;
  return QuoteVerdict(VerifiedQuote(
      QuoteClock{c.clock, c.resetCount, c.restartCount, c.safe == TPM2_YES}, attest.firmwareVersion,
      ByteView(attest.qualifiedSigner.name, attest.qualifiedSigner.size),
      ByteView(attest.attested.quote.pcrDigest.buffer, attest.attested.quote.pcrDigest.size),
      *expected.selection, sig_check->scheme, *sig_check->hash));
}

}  // namespace bulwark::attest
