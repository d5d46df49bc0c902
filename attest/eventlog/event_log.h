// TCG PC Client firmware event log (binary_bios_measurements) framing parser.
// Pure: bytes in, records out. Two formats (TCG PC Client PFP v1.05 §10.2):
//  - SHA1 legacy: every record is a TCG_PCClientPCREvent (pcr, type, SHA1[20], size, data);
//  - crypto agile: the first record is a TCG_PCClientPCREvent of type EV_NO_ACTION whose
//    data is the "Spec ID Event03" structure (§10.4.5.1, TCG_EfiSpecIdEvent); every later
//    record is a TCG_PCR_EVENT2 whose TPML_DIGEST_VALUES entries are sized from the Spec
//    ID algorithm table, so algorithms Bulwark cannot hash still parse.
// Every length is checked against the buffer and against ParseLimits; failures are
// ErrorCode::kMalformed with the byte offset in the context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"

namespace bulwark::attest::eventlog {

inline constexpr std::uint32_t kNumPcrs = 24;  // PFP PCRs 0-23

// One row of the Spec ID event's digestSizes table (TCG_EfiSpecIdEventAlgorithmSize).
struct AlgorithmSize {
  std::uint16_t alg_id = 0;  // TPM_ALG_ID, possibly one Bulwark does not know
  std::uint16_t digest_size = 0;
};

// TCG_EfiSpecIdEvent ("Spec ID Event03").
struct SpecIdEvent {
  std::uint32_t platform_class = 0;  // 0 client, 1 server
  std::uint8_t version_minor = 0;
  std::uint8_t version_major = 0;
  std::uint8_t errata = 0;
  std::uint8_t uintn_size = 0;  // 1 = UINT32, 2 = UINT64
  std::vector<AlgorithmSize> algorithms;
  Bytes vendor_info;
};

struct EventDigest {
  std::uint16_t alg_id = 0;  // raw TPM_ALG_ID (see hashAlgFromId)
  Bytes digest;
};

struct Event {
  std::size_t index = 0;   // position in the log, 0 = first record
  std::size_t offset = 0;       // byte offset of the record header
  std::size_t data_offset = 0;  // byte offset of `data`
  std::uint32_t pcr = 0;
  std::uint32_t type = 0;
  std::vector<EventDigest> digests;
  Bytes data;

  // The digest for `alg`, or nullptr when this record carries none.
  const Bytes* digestFor(HashAlg alg) const;
};

enum class LogFormat { kSha1Legacy, kCryptoAgile };

struct EventLog {
  LogFormat format = LogFormat::kSha1Legacy;
  std::optional<SpecIdEvent> spec_id;  // set for crypto-agile logs
  std::vector<Event> events;           // includes the Spec ID record at index 0
  std::size_t trailing_zero_bytes = 0; // zero padding after the last record (log area slack)
};

// Caps against hostile sizes; the defaults hold every real log we have seen with
// room to spare (largest real record: a dbx variable of ~30 KiB).
struct ParseLimits {
  std::size_t max_log_bytes = 16u << 20;
  std::size_t max_events = 65536;
  std::size_t max_event_data = 1u << 20;
  std::size_t max_algorithms = 16;
};

// Parses a whole log. Errors: kMalformed (truncated, inconsistent or over a limit,
// message says what, context gives the offset), kUnsupported (a Spec ID version this
// parser does not implement).
[[nodiscard]] Result<EventLog> parseEventLog(ByteView log, const ParseLimits& limits = {});

// Decodes "Spec ID Event03" data (used by parseEventLog; exposed for tests and typed
// decoding of EV_NO_ACTION records). `base` is the data's offset in the log.
[[nodiscard]] Result<SpecIdEvent> parseSpecIdEvent(ByteView data, std::size_t base = 0,
                                                   std::size_t max_algorithms = 16);

std::string logFormatName(LogFormat f);

}  // namespace bulwark::attest::eventlog
