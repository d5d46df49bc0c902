// Parser for CEL-JSON logs framed as an RFC 7464 JSON text sequence (the format of
// systemd's tpm2-measure.log and of Bulwark's own measurement log). Pure: bytes in,
// records out. Untrusted input of any size yields a record list or a kMalformed
// Error naming the first bad record and its byte offset; it never crashes.
#pragma once

#include <cstddef>
#include <string_view>

#include "attest/cel/cel_record.h"
#include "attest/core/error.h"

namespace bulwark::attest {

struct CelParseOptions {
  std::size_t max_record_bytes = 1u << 20;  // one JSON text, framing included
  std::size_t max_records = 1u << 20;
  int max_depth = 32;  // JSON nesting; bounds the recursion of later dump()s
};

// How one JSON text between separators ended.
enum class CelSegmentState {
  kComplete,  // ends with '\n' and holds a valid CEL record
  kTorn,      // no closing '\n' and the bytes are a prefix of a JSON text (or a whole
              // text): what a writer that died mid-append leaves behind
  kCorrupt,   // anything else: invalid JSON before the end, or not a CEL record
};

struct CelSegment {
  CelSegmentState state = CelSegmentState::kCorrupt;
  CelRecord record;     // valid when state == kComplete
  std::string problem;  // why it is torn or corrupt
};

// Classifies the bytes that follow one 0x1E (up to the next 0x1E or the end).
CelSegment decodeCelSegment(std::string_view segment, const CelParseOptions& options = {});

// Parses a whole log. An empty buffer is an empty log. A bad record anywhere but at
// the very end is an error ("record N at offset X: ..."); a torn final record is not
// an error but is reported in CelLog::torn and excluded from records, so callers
// decide whether an incomplete tail is acceptable.
[[nodiscard]] Result<CelLog> parseCel(ByteView data, const CelParseOptions& options = {});

}  // namespace bulwark::attest
