// In-process quote verification throughput on real tpm2_quote fixtures
// (tests/testdata/quote): one QuoteVerifier per thread, AK parsed once.
// Compare items_per_second with `openssl speed rsa2048 ecdsap256` verify/s
// (scripts/bench.sh prints both).
#include <benchmark/benchmark.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/quote/ak_key.h"
#include "attest/quote/marshal.h"
#include "attest/quote/quote_verifier.h"
#include "attest/quote/tpm2_tools_pcrs.h"

namespace {

using namespace bulwark;
using namespace bulwark::attest;

std::string dataDir() {
  if (const char* src = std::getenv("BULWARK_SOURCE_DIR")) {
    return std::string(src) + "/tests/testdata/quote/";
  }
  // ctest runs benches without the environment: fall back to this file's tree.
  return (std::filesystem::path(__FILE__).parent_path() / ".." / "testdata" / "quote").string() +
         "/";
}

struct QuoteSet {
  Bytes ak, msg, sig, nonce;
  Tpm2ToolsPcrs pcrs;
};

Result<QuoteSet> load(const std::string& prefix, const char* ak_suffix) {
  QuoteSet q;
  const std::string dir = dataDir();
  auto ak = readFile(dir + prefix + ak_suffix);
  auto msg = readFile(dir + prefix + ".msg");
  auto sig = readFile(dir + prefix + ".sig");
  auto pcrs = readFile(dir + prefix + ".pcrs");
  auto hex = readFile(dir + "nonce.hex");
  if (!ak || !msg || !sig || !pcrs || !hex) return fail(ErrorCode::kNotFound, "fixture " + prefix);
  std::string text(hex->begin(), hex->end());
  auto nonce = fromHex(text.substr(0, text.find('\n')));
  auto parsed = parseTpm2ToolsPcrs(*pcrs);
  if (!nonce || !parsed) return fail(ErrorCode::kMalformed, "fixture " + prefix);
  return QuoteSet{*ak, *msg, *sig, *nonce, *parsed};
}

// Steady state of a verifier replica: AK cached, one verification per quote.
void BM_VerifyQuote(benchmark::State& state, const char* prefix, const char* ak_suffix) {
  auto q = load(prefix, ak_suffix);
  if (!q) return state.SkipWithError(q.error().toString().c_str());
  auto key = AkKey::load(q->ak);
  if (!key) return state.SkipWithError(key.error().toString().c_str());
  auto verifier = QuoteVerifier::create(*key);
  if (!verifier) return state.SkipWithError("verifier");
  QuoteExpectation expected{q->nonce, &q->pcrs.selection, q->pcrs.values};
  for (auto _ : state) {
    auto verdict = verifier->verify(q->msg, q->sig, expected);
    if (!verdict || !verdict->verified()) return state.SkipWithError("quote did not verify");
    benchmark::DoNotOptimize(verdict->quote()->clock());
  }
  state.SetItemsProcessed(state.iterations());
}

// The same with the AK parsed and the verifier built for every quote (what caching saves).
void BM_VerifyQuoteColdKey(benchmark::State& state, const char* prefix, const char* ak_suffix) {
  auto q = load(prefix, ak_suffix);
  if (!q) return state.SkipWithError(q.error().toString().c_str());
  QuoteExpectation expected{q->nonce, &q->pcrs.selection, q->pcrs.values};
  for (auto _ : state) {
    auto key = AkKey::load(q->ak);
    if (!key) return state.SkipWithError(key.error().toString().c_str());
    auto verifier = QuoteVerifier::create(*key);
    if (!verifier) return state.SkipWithError("verifier");
    auto verdict = verifier->verify(q->msg, q->sig, expected);
    if (!verdict || !verdict->verified()) return state.SkipWithError("quote did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}

// A rejected quote (bad nonce): the reject path builds strings, it must stay cheap too.
void BM_RejectQuote(benchmark::State& state, const char* prefix) {
  auto q = load(prefix, ".ak.pub");
  if (!q) return state.SkipWithError(q.error().toString().c_str());
  auto key = AkKey::load(q->ak);
  if (!key) return state.SkipWithError(key.error().toString().c_str());
  auto verifier = QuoteVerifier::create(*key);
  if (!verifier) return state.SkipWithError("verifier");
  Bytes nonce = q->nonce;
  nonce[0] ^= 1;
  QuoteExpectation expected{nonce, &q->pcrs.selection, q->pcrs.values};
  for (auto _ : state) {
    auto verdict = verifier->verify(q->msg, q->sig, expected);
    if (!verdict || verdict->verified()) return state.SkipWithError("quote was not rejected");
  }
  state.SetItemsProcessed(state.iterations());
}

// Baseline in the same process: only OpenSSL's EVP_PKEY_verify of the fixture's
// signature over a precomputed digest (what `openssl speed` measures). The gap to
// BM_VerifyQuote is everything Bulwark adds: parsing, hashing, the checks.
void BM_EvpVerifyOnly(benchmark::State& state, const char* prefix) {
  auto q = load(prefix, ".ak.pub");
  if (!q) return state.SkipWithError(q.error().toString().c_str());
  auto key = AkKey::load(q->ak);
  TPMT_SIGNATURE sig;
  if (!key || !unmarshalSignature(q->sig, sig)) return state.SkipWithError("fixture");
  Bytes der;
  if (sig.sigAlg == TPM2_ALG_ECDSA) {
    ECDSA_SIG* es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig.signature.ecdsa.signatureR.buffer,
                                 sig.signature.ecdsa.signatureR.size, nullptr),
                   BN_bin2bn(sig.signature.ecdsa.signatureS.buffer,
                             sig.signature.ecdsa.signatureS.size, nullptr));
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es, &out);
    der.assign(out, out + len);
    OPENSSL_free(out);
    ECDSA_SIG_free(es);
  } else {
    der.assign(sig.signature.rsassa.sig.buffer,
               sig.signature.rsassa.sig.buffer + sig.signature.rsassa.sig.size);
  }
  Bytes digest = sha256(q->msg);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key->pkey(), nullptr);
  EVP_PKEY_verify_init(ctx);
  EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
  if (sig.sigAlg == TPM2_ALG_RSASSA) EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
  for (auto _ : state) {
    if (EVP_PKEY_verify(ctx, der.data(), der.size(), digest.data(), digest.size()) != 1) {
      EVP_PKEY_CTX_free(ctx);
      return state.SkipWithError("baseline signature did not verify");
    }
  }
  EVP_PKEY_CTX_free(ctx);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_EvpVerifyOnly, rsa2048_rsassa, "rsa");
BENCHMARK_CAPTURE(BM_EvpVerifyOnly, ecc_p256_ecdsa, "ecc");
BENCHMARK_CAPTURE(BM_VerifyQuote, rsa2048_rsassa, "rsa", ".ak.pub");
BENCHMARK_CAPTURE(BM_VerifyQuote, rsa2048_rsapss, "rsapss", ".ak.pub");
BENCHMARK_CAPTURE(BM_VerifyQuote, ecc_p256_ecdsa, "ecc", ".ak.pub");
BENCHMARK_CAPTURE(BM_VerifyQuote, ecc_p256_multibank, "ecc_multibank", ".ak.pem");
BENCHMARK_CAPTURE(BM_VerifyQuoteColdKey, rsa2048_pem, "rsa", ".ak.pem");
BENCHMARK_CAPTURE(BM_VerifyQuoteColdKey, ecc_p256_pem, "ecc", ".ak.pem");
BENCHMARK_CAPTURE(BM_RejectQuote, rsa2048_nonce, "rsa");
BENCHMARK_CAPTURE(BM_RejectQuote, ecc_p256_nonce, "ecc");

}  // namespace
