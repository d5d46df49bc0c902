// Fuzzes the CEL-JSON log parser and everything a verifier runs on its output:
// replay, Bulwark content checks (including batch-part binding) and
// canonicalization. Also checks one property:
// a parsed record, formatted again the way the writer does it, parses back to the
// same PCR, digests and content. Any violation aborts (a fuzzer finding).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_replay.h"

namespace {

using namespace bulwark;
using namespace bulwark::attest;

void checkRoundTrip(const CelRecord& r) {
  if (!r.pcr || !r.unknown_algs.empty()) return;
  auto canonical = canonicalContent(r.content);
  if (!canonical) return;  // floats: not canonicalizable, rejected by checks instead
  std::string text = formatCelRecord(*r.pcr, r.digests, r.content_type, *canonical);
  auto again = parseCel(asBytes(text));
  if (!again || again->records.size() != 1 || again->torn) std::abort();
  const CelRecord& back = again->records[0];
  if (back.pcr != r.pcr || back.digests != r.digests || back.content_type != r.content_type ||
      back.content != r.content) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CelParseOptions options;
  options.max_record_bytes = 64u << 10;
  options.max_records = 4096;
  auto log = parseCel(ByteView(data, size), options);
  (void)decodeCelSegment(std::string_view(reinterpret_cast<const char*>(data), size), options);
  if (!log) return 0;
  if (log->complete_bytes > size) std::abort();
  CelReplay replay = replayCel(*log);
  (void)replay;
  (void)checkBulwarkRecords(*log);
  // Only extending records on a PCR can attest entries (orphaned or no-action
  // batch-part records never do).
  std::size_t attested = 0;
  for (const auto& b : attestedBatches(*log)) {
    if (b.record_index >= log->records.size()) std::abort();
    const CelRecord& r = log->records[b.record_index];
    if (r.isNoAction() || r.pcr != b.pcr) std::abort();
    attested += b.entries.size();
  }
  if (loggedBatchEntries(*log).size() != attested) std::abort();
  for (const auto& r : log->records) {
    if (r.offset + r.size > size) std::abort();
    checkRoundTrip(r);
    if (r.content_type == kBulwarkContentType) (void)validateBulwarkContent(r.content);
  }
  return 0;
}
