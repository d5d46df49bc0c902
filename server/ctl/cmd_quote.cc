// bulwarkctl quote verify — checks a quote exactly as tpm2-tools 5.x writes it:
//   tpm2_quote -c ak.ctx -l sha256:0,1,2 -q NONCEHEX -m msg -s sig -o pcrs
//   bulwarkctl quote verify --ak-pub ak.pem --message msg --signature sig
//       --pcrs pcrs --nonce NONCEHEX [--pcr-list sha256:0,1,2]
// Exit 0 + "OK ..." when every check passes, 1 + "REJECTED <reason>: ..." when a
// check fails, 2 + "ERROR ..." (stderr) when the inputs cannot be read or parsed.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "attest/core/bytes.h"
#include "attest/quote/ak_key.h"
#include "attest/quote/marshal.h"
#include "attest/quote/quote_verifier.h"
#include "attest/quote/tpm2_tools_pcrs.h"
#include "server/ctl/command.h"

namespace bulwark::ctl {
namespace {

using attest::VerifiedQuote;

struct QuoteVerifyOptions {
  std::string ak_pub;
  std::string message;
  std::string signature;
  std::string pcrs;
  std::string nonce;
  std::string pcr_list;
};

// Inputs are small (a quote is < 2 KiB); cap reads so a wrong path cannot eat memory.
constexpr std::size_t kMaxInput = 1u << 20;

Result<Bytes> readInput(const std::string& path, const char* what) {
  auto bytes = readFile(path, kMaxInput);
  if (!bytes) return std::unexpected(bytes.error().within(what));
  return bytes;
}

std::string okLine(const attest::AkKey& key, const VerifiedQuote& q) {
  char numbers[160];
  std::snprintf(numbers, sizeof numbers,
                "clock=%llu resetCount=%u restartCount=%u safe=%s firmwareVersion=0x%016llx",
                static_cast<unsigned long long>(q.clock()), q.resetCount(), q.restartCount(),
                q.safe() ? "yes" : "no", static_cast<unsigned long long>(q.firmwareVersion()));
  return "OK quote verified: ak=" + key.describe() + " signature=" +
         attest::sigSchemeName(q.signatureScheme()) + "-" +
         std::string(hashAlgName(q.signatureHash())) + " pcrs=" + q.selection().toString() +
         " pcrDigest=" + toHex(q.pcrDigest()) + " " + numbers +
         " qualifiedSigner=" + toHex(q.qualifiedSigner());
}

// Returns the verdict line to print, or an Error.
Result<std::pair<int, std::string>> verifyQuote(const QuoteVerifyOptions& o) {
  auto ak_bytes = readInput(o.ak_pub, "--ak-pub");
  if (!ak_bytes) return std::unexpected(ak_bytes.error());
  auto message = readInput(o.message, "--message");
  if (!message) return std::unexpected(message.error());
  auto signature = readInput(o.signature, "--signature");
  if (!signature) return std::unexpected(signature.error());
  auto pcr_bytes = readInput(o.pcrs, "--pcrs");
  if (!pcr_bytes) return std::unexpected(pcr_bytes.error());
  auto nonce = fromHex(o.nonce);
  if (!nonce) return std::unexpected(nonce.error().within("--nonce"));

  auto key = attest::AkKey::load(*ak_bytes);
  if (!key) return std::unexpected(key.error().within(o.ak_pub));
  auto pcrs = attest::parseTpm2ToolsPcrs(*pcr_bytes);
  if (!pcrs) return std::unexpected(pcrs.error().within(o.pcrs));
  attest::PcrSelection requested = pcrs->selection;
  if (!o.pcr_list.empty()) {
    auto parsed = attest::PcrSelection::parse(o.pcr_list);
    if (!parsed) return std::unexpected(parsed.error().within("--pcr-list"));
    requested = *parsed;
  }
  // Only the requested PCRs are handed to the verifier; the quote must cover exactly them.
  auto values = attest::selectPcrValues(pcrs->values, requested);
  if (!values) return std::unexpected(values.error().within(o.pcrs));

  auto verifier = attest::QuoteVerifier::create(*key);
  if (!verifier) return std::unexpected(verifier.error());
  auto verdict = verifier->verify(*message, *signature, {*nonce, &requested, *values});
  if (!verdict) return std::unexpected(verdict.error());
  if (const VerifiedQuote* q = verdict->quote()) return std::pair{kExitOk, okLine(*key, *q)};
  return std::pair{kExitRejected, "REJECTED " + verdict->summary()};
}

void registerQuote(CLI::App& app, int& exit_code) {
  CLI::App* quote = app.add_subcommand("quote", "Check TPM quotes");
  quote->require_subcommand(1);
  CLI::App* verify = quote->add_subcommand(
      "verify", "Verify a tpm2_quote output (message, signature, PCR file) against an AK");
  auto opts = std::make_shared<QuoteVerifyOptions>();
  verify->add_option("--ak-pub", opts->ak_pub, "AK public key: PEM or TPM2B_PUBLIC")->required();
  verify->add_option("--message", opts->message, "TPMS_ATTEST (tpm2_quote -m)")->required();
  verify->add_option("--signature", opts->signature, "TPMT_SIGNATURE (tpm2_quote -s)")
      ->required();
  verify->add_option("--pcrs", opts->pcrs, "PCR file (tpm2_quote -o, serialized)")->required();
  verify->add_option("--nonce", opts->nonce, "expected qualifying data, hex (tpm2_quote -q)")
      ->required();
  verify->add_option("--pcr-list", opts->pcr_list,
                     "requested selection, e.g. sha256:0,1,2 (default: the PCR file's)");
  verify->callback([opts, &exit_code] {
    // libtss2-mu logs WARNINGs for malformed input; our one-line ERROR says it all.
    // An operator's own TSS2_LOG setting still wins.
    ::setenv("TSS2_LOG", "marshal+none", 0);
    auto result = verifyQuote(*opts);
    if (!result) {
      std::fprintf(stderr, "ERROR %s\n", result.error().toString().c_str());
      exit_code = kExitError;
      return;
    }
    std::printf("%s\n", result->second.c_str());
    exit_code = result->first;
  });
}

const RegisterCommand kRegisterQuote{registerQuote};

}  // namespace
}  // namespace bulwark::ctl
