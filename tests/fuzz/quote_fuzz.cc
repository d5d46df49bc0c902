// Fuzz target for the quote module: AK public key, TPMS_ATTEST, TPMT_SIGNATURE,
// tpm2-tools PCR file and the whole verifier. Input layout (all lengths u16 BE):
//   len ak | ak | len attest | attest | len sig | sig | len nonce | nonce | pcrs file...
// Seeds in corpus/quote_fuzz/ are the real tpm2_quote fixtures packed this way
// (see tests/testdata/quote/README.md), so mutations start from valid quotes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "attest/quote/ak_key.h"
#include "attest/quote/marshal.h"
#include "attest/quote/quote_verifier.h"
#include "attest/quote/tpm2_tools_pcrs.h"

namespace {

using bulwark::ByteView;

struct Reader {
  ByteView rest;
  std::optional<ByteView> take() {
    if (rest.size() < 2) return std::nullopt;
    std::size_t n = (std::size_t{rest[0]} << 8) | rest[1];
    if (rest.size() - 2 < n) return std::nullopt;
    ByteView out = rest.subspan(2, n);
    rest = rest.subspan(2 + n);
    return out;
  }
};

// Invariants that must hold for any input; a violation is a bug, so crash loudly.
void check(bool ok) {
  if (!ok) std::abort();
}

void fuzzPcrFile(ByteView file) {
  auto pcrs = bulwark::attest::parseTpm2ToolsPcrs(file);
  if (!pcrs) return;
  check(bulwark::attest::checkPcrValuesMatch(pcrs->selection, pcrs->values).has_value());
  auto again = bulwark::attest::serializeTpm2ToolsPcrs(pcrs->selection, pcrs->values);
  check(again.has_value());
  auto reparsed = bulwark::attest::parseTpm2ToolsPcrs(*again);
  check(reparsed && reparsed->selection == pcrs->selection && reparsed->values == pcrs->values);
  auto spec = bulwark::attest::PcrSelection::parse(pcrs->selection.toString());
  check(spec && *spec == pcrs->selection);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bulwark::attest;
  Reader r{ByteView(data, size)};
  auto ak = r.take();
  auto attest = r.take();
  auto sig = r.take();
  auto nonce = r.take();
  if (!ak || !attest || !sig || !nonce) return 0;
  ByteView pcr_file = r.rest;

  TPMS_ATTEST parsed_attest;
  if (unmarshalAttest(*attest, parsed_attest)) {
    auto round = marshalAttest(parsed_attest);
    check(round && std::ranges::equal(*round, *attest));
  }
  TPMT_SIGNATURE parsed_sig;
  (void)unmarshalSignature(*sig, parsed_sig);
  fuzzPcrFile(pcr_file);

  auto key = AkKey::load(*ak);
  auto pcrs = parseTpm2ToolsPcrs(pcr_file);
  if (!key || !pcrs) return 0;
  auto verifier = QuoteVerifier::create(*key);
  if (!verifier) return 0;
  auto verdict = verifier->verify(*attest, *sig, {*nonce, &pcrs->selection, pcrs->values});
  if (verdict) {
    // Verified exactly when there is no reason to reject, and then a quote exists.
    check(verdict->verified() == verdict->rejections().empty());
    check((verdict->quote() != nullptr) == verdict->verified());
    if (const VerifiedQuote* q = verdict->quote()) check(q->selection() == pcrs->selection);
  }
  return 0;
}
