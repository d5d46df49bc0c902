// Bulwark's own CEL content type, "bulwark" (docs/measurement-log.md). A batch record
// lists (kind, subject, sha256) measurements and its PCR digest in every bank is
// H_bank(canonical bytes of the whole content object), so the TPM-attested digest
// binds every entry. A batch too large for one record is written as no-action
// "batch-part" records followed by the one extending "batch" record, whose "parts"
// lists SHA-256(canonical content) of each part: one extend binds them all.
// Pure: builders, canonical serialization, schema and digest checks.
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
  kBatch,      // extends: a batch of measurements (and the parts it lists)
  kBatchPart,  // no-action: entries of the batch record that follows and lists it
  kLogStart,   // no-action: first record of a boot's log, carries the boot_id
  kRecovery,   // no-action: the writer found a crashed predecessor's leftovers
};

struct BatchEntry {
  std::string kind;     // what was measured: "file", "process-exe", "image", ...
  std::string subject;  // which one: a path, "pid 42 (/usr/bin/runc)", an image ref
  Bytes sha256;         // 32 bytes
};

// `parts`: SHA-256 of each preceding part's canonical content, in log order. Empty:
// no "parts" member at all (a single-record batch, the format of every log before
// parts existed).
nlohmann::json makeBatchContent(std::span<const BatchEntry> entries,
                                std::span<const Bytes> parts = {});
nlohmann::json makeBatchPartContent(std::span<const BatchEntry> entries);

// The contents that record `entries` with ONE extend: a single batch content when
// its canonical form fits `max_content_bytes` (byte-identical to a batch without
// parts), else batch-part contents followed by the batch content (last) that
// lists their hashes and holds the final entries; every canonical content fits
// `max_content_bytes`. Entry order is kept across the records. Errors: kMalformed
// (an entry that cannot be canonicalized, or that alone does not fit), or
// kInvalidArgument (no entries).
[[nodiscard]] Result<std::vector<nlohmann::json>> makeBatchRecords(
    std::span<const BatchEntry> entries, std::size_t max_content_bytes);
nlohmann::json makeLogStartContent(std::string_view boot_id);
nlohmann::json makeRecoveryContent(std::size_t torn_bytes, bool interrupted);

// Canonical serialization (docs/measurement-log.md "Canonical content"): members sorted
// by byte-wise UTF-8 key order, no whitespace, nlohmann's minimal string escaping,
// integers only. Fails (kMalformed) on floating-point numbers or invalid UTF-8.
[[nodiscard]] Result<std::string> canonicalContent(const nlohmann::json& content);

// SHA-256(canonical content): how a batch lists one of its parts.
[[nodiscard]] Result<Bytes> batchPartHash(const nlohmann::json& content);

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
// log-start only first, digests equal to H_bank(canonical content), and for every
// batch: the batch-part records immediately before it are exactly the parts it
// lists (count, order, content hash, no-action, same PCR). Part records that no
// batch follows are a crashed writer's leftovers: legal, never attested, no finding.
// An empty result means every Bulwark record is consistent; other content types
// are ignored. (bulwark_log_check.cc)
std::vector<CelFinding> checkBulwarkRecords(const CelLog& log);

// One extending batch record and the measurements it attests: the entries of the
// parts it lists (in order) followed by its own.
struct AttestedBatch {
  std::size_t record_index = 0;
  std::uint32_t pcr = 0;
  std::vector<BatchEntry> entries;
};

// Every "bulwark" batch record that extends a PCR and whose content passes the
// schema (checkBulwarkRecords reports the others), in log order. Its parts'
// entries are included only when the part records immediately before it match its
// list exactly; part records no batch lists (orphans) never contribute.
std::vector<AttestedBatch> attestedBatches(const CelLog& log);

// The measurements a log attests, in log order (duplicates kept): attestedBatches,
// flattened.
std::vector<BatchEntry> loggedBatchEntries(const CelLog& log);

}  // namespace bulwark::attest
