// Fuzz target for POST /v1/attest bodies before any trust decision (server/appraisal/
// evidence.h, log_copies.h): parseEvidence over the Evidence bytes, then — as the
// Appraiser does for logs shipped incrementally — expandEvidence against a verifier
// copy, and the copy/cursor helpers over every parsed log. Input layout:
//   u32 BE length of the copy | copy bytes (the verifier's stored log) | Evidence bytes
// Seeds (corpus/evidence_fuzz/, README there) are SoftAgent evidence: a whole log, and
// the same log shipped from the copy's end with one appended record.
#include <cstdint>

#include "server/appraisal/log_copies.h"

namespace {
using namespace bulwark;
using namespace bulwark::server;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::size_t copy_len = (std::size_t{data[0]} << 24) | (std::size_t{data[1]} << 16) |
                         (std::size_t{data[2]} << 8) | data[3];
  if (copy_len > size - 4) return 0;
  std::string copy_bytes(reinterpret_cast<const char*>(data + 4), copy_len);
  ByteView evidence(data + 4 + copy_len, size - 4 - copy_len);
  auto ev = parseEvidence(evidence);
  if (!ev) return 0;
  LogCopy copy;
  copy.source = "/run/bulwark/measure.log";
  copy.bytes = static_cast<std::int64_t>(copy_len);
  for (char c : copy_bytes) copy.entries += c == '\x1e' ? 1 : 0;
  copy.content = copy_bytes;
  for (bool stored : {false, true}) {
    ParsedEvidence whole = *ev;
    if (!expandEvidence(whole, &copy, stored)) continue;
    for (const ParsedLog& log : whole.logs) {
      (void)keepsCopy(log);
      if (!log.incremental()) (void)completeBytes(whole, log);
    }
  }
  return 0;
}
