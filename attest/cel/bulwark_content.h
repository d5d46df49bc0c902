// Bulwark's own CEL content type, "bulwark" (docs/measurement-log.md). A batch record
// lists (kind, subject, sha256) measurements and its PCR digest in every bank is
// H_bank(canonical bytes of the whole content object), so the TPM-attested digest
// binds every entry. Pure: builders, canonical serialization, schema and digest checks.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attest/cel/cel_record.h"
#include "attest/core/error.h"

namespace bulwark::attest {

inline constexpr std::string_view kBulwarkContentType = "bulwark";
inline constexpr std::uint64_t kBulwarkContentVersion = 1;
inline constexpr std::size_t kBulwarkMaxKind = 64;
inline constexpr std::size_t kBulwarkMaxSubject = 4096;

enum class BulwarkEvent {
  kBatch,     // extends: a batch of measurements
  kLogStart,  // no-action: first record of a boot's log, carries the boot_id
  kRecovery,  // no-action: the writer found a crashed predecessor's leftovers
};

struct BatchEntry {
  std::string kind;     // what was measured: "file", "process-exe", "image", ...
  std::string subject;  // which one: a path, "pid 42 (/usr/bin/runc)", an image ref
  Bytes sha256;         // 32 bytes
};

nlohmann::json makeBatchContent(std::span<const BatchEntry> entries);
nlohmann::json makeLogStartContent(std::string_view boot_id);
nlohmann::json makeRecoveryContent(std::size_t torn_bytes, bool interrupted);

// Canonical serialization (docs/measurement-log.md "Canonical content"): members sorted
// by byte-wise UTF-8 key order, no whitespace, nlohmann's minimal string escaping,
// integers only. Fails (kMalformed) on floating-point numbers or invalid UTF-8.
[[nodiscard]] Result<std::string> canonicalContent(const nlohmann::json& content);

// H_bank(canonical content) for every bank, in the order given.
[[nodiscard]] Result<std::vector<CelDigest>> bulwarkDigests(const nlohmann::json& content,
                                                            std::span<const HashAlg> banks);

// Schema check of one "bulwark" content value; returns which event it is.
[[nodiscard]] Result<BulwarkEvent> validateBulwarkContent(const nlohmann::json& content);

// A reason to reject a log: the record it is about and what is wrong.
struct CelFinding {
  std::size_t record_index = 0;
  std::size_t offset = 0;
  std::string reason;
};

// Verifier check of every "bulwark" record: schema, event/no-action consistency,
// log-start only first, and digests equal to H_bank(canonical content). An empty
// result means every Bulwark record is consistent; other content types are ignored.
std::vector<CelFinding> checkBulwarkRecords(const CelLog& log);

// The measurements a log attests, in log order (duplicates kept): the entries of every
// "bulwark" batch record whose content passes the schema (checkBulwarkRecords reports
// the others). Entries with a malformed sha256 are skipped.
std::vector<BatchEntry> loggedBatchEntries(const CelLog& log);

}  // namespace bulwark::attest
