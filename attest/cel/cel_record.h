// TCG Canonical Event Log (CEL) records in the JSON encoding systemd writes to
// /run/log/systemd/tpm2-measure.log: an RFC 7464 JSON text sequence where every
// record is 0x1E, one compact JSON object, '\n'. The object carries the CEL-JSON
// fields (TCG CEL v1 §5): optional "recnum", "pcr" (or systemd's "nv_index"),
// "digests":[{"hashAlg","digest"}], "content_type" and "content".
// Pure types and formatting; no I/O. See docs/measurement-log.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"

namespace bulwark::attest {

// RFC 7464 §2.1 record separator and the terminator systemd writes after each text.
inline constexpr std::uint8_t kCelRecordSeparator = 0x1E;
inline constexpr std::uint8_t kCelRecordTerminator = '\n';
// PC Client PTP: 24 PCRs (0..23); systemd rejects larger indexes the same way.
inline constexpr std::uint32_t kCelMaxPcr = 23;

struct CelDigest {
  HashAlg alg;
  Bytes value;  // exactly hashAlgSize(alg) bytes
  bool operator==(const CelDigest&) const = default;
};

struct CelRecord {
  std::size_t index = 0;                  // position in the log, 0-based
  std::size_t offset = 0;                 // byte offset of the record's leading 0x1E
  std::size_t size = 0;                   // bytes from 0x1E through the closing '\n'
  std::optional<std::uint64_t> recnum;    // CEL field; systemd omits it
  std::optional<std::uint32_t> pcr;       // exactly one of pcr / nv_index is set
  std::optional<std::uint32_t> nv_index;  // systemd NvPCR records; never replayed into PCRs
  std::vector<CelDigest> digests;         // known banks, in file order, no duplicates
  std::vector<std::string> unknown_algs;  // hashAlg names we do not implement (skipped)
  std::string content_type;
  nlohmann::json content;

  // The digest for one bank, or nullptr when the record does not carry that bank.
  const Bytes* digestFor(HashAlg alg) const;
  // A record that extended nothing (the CEL analogue of EV_NO_ACTION, TCG PC Client
  // PFP §10.4.5): an empty digest list. Replay skips it, so its content is never
  // attested by the TPM; Bulwark uses it only for informational markers.
  bool isNoAction() const { return digests.empty() && unknown_algs.empty(); }
};

// A final record cut short by a crashed or still-running writer.
struct CelTornTail {
  std::size_t offset = 0;  // where the partial record's 0x1E is
  std::size_t size = 0;    // bytes from there to the end of the buffer
  std::string reason;
};

struct CelLog {
  std::vector<CelRecord> records;
  std::optional<CelTornTail> torn;  // set when the last record is incomplete
  std::size_t complete_bytes = 0;   // length of the prefix holding whole records
};

// Formats one record exactly as systemd does: 0x1E, compact JSON with keys in the
// order pcr, digests, content_type, content (digest objects: hashAlg, digest; hex in
// lower case), then '\n'. `content_json` is inserted verbatim and must be one valid
// compact JSON text (Bulwark passes its canonical content bytes here). An empty
// `digests` yields a no-action record.
std::string formatCelRecord(std::uint32_t pcr, std::span<const CelDigest> digests,
                            std::string_view content_type, std::string_view content_json);

}  // namespace bulwark::attest
