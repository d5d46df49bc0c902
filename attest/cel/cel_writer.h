// Appends Bulwark records to a CEL-JSON log and extends the PCR, following
// systemd's userspace measurement protocol (tpm2-measure.log): open, flock(LOCK_EX),
// mark "in progress" (S_ISVTX on the log file), extend the PCR, append the record,
// fsync, clear the mark, unlock. A crash between extend and append therefore leaves
// a mark the next writer sees. Edge code (files, locks); the TPM sits behind
// PcrExtender so tests use a software PCR and the agent plugs in its TPM adapter.
// Crash semantics: docs/measurement-log.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_file.h"
#include "attest/cel/cel_parser.h"
#include "attest/cel/cel_record.h"
#include "attest/core/error.h"

namespace bulwark::attest {

// Extends one PCR. Implementations: the agent's TPM adapter (TPM2_PCR_Extend with
// one digest per bank, TPM 2.0 Part 3 §22.2) and software fakes in tests.
class PcrExtender {
 public:
  virtual ~PcrExtender() = default;
  // Extends `pcr` with every (bank, digest) pair in one operation. An Error means the
  // extend may or may not have reached the TPM (a lost response looks like a failure),
  // so the writer keeps the log marked as possibly incomplete.
  [[nodiscard]] virtual Result<void> extend(
      std::uint32_t pcr, const std::vector<std::pair<HashAlg, Bytes>>& digests) = 0;
};

struct CelWriterOptions {
  std::string path;                              // e.g. /run/bulwark/measure.log
  std::uint32_t pcr = 15;                        // DESIGN §4 default
  std::vector<HashAlg> banks{HashAlg::kSha256};  // every active bank of that PCR
  bool allow_resettable_pcr = false;             // PCR 16 and 23: debug mode only
  unsigned dir_mode = 0700;                      // for a missing parent directory
  std::size_t max_log_bytes = 64u << 20;
  CelParseOptions parse;  // limits used on the log's tail
  // Canonical content bytes per record: a batch larger than this is written as
  // batch-part records plus one batch record (still one extend). Stays below
  // parse.max_record_bytes (the verifier's bound) with room for framing and digests;
  // tests lower it to exercise parts with few entries.
  std::size_t max_batch_content_bytes = 900u << 10;
};

// What a writer found left behind by a crashed predecessor, and repaired.
struct CelRecovery {
  std::size_t torn_bytes = 0;  // partial final record, truncated away
  bool interrupted = false;    // the in-progress mark was set: the PCR may hold an
                               // extend that has no record (replay will not match)
  bool any() const { return torn_bytes > 0 || interrupted; }
};

struct CelAppendResult {
  std::size_t offset = 0;  // where the new (extending) batch record starts
  std::size_t parts = 0;   // batch-part records written just before it
  std::vector<CelDigest> digests;
  CelRecovery recovery;  // non-empty: a "recovery" marker record precedes this one
};

struct CelBootLogResult {
  bool created = false;          // the log did not exist or was empty
  bool rotated = false;          // the log belonged to another boot and is now <path>.prev
  std::string previous_boot_id;  // the rotated log's boot_id ("" if it had none)
  CelRecovery recovery;          // same boot: leftovers repaired in the current log
};

class CelWriter {
 public:
  // Validates the options (PCR range, resettable PCRs, banks). `extender` must
  // outlive the writer.
  [[nodiscard]] static Result<CelWriter> create(CelWriterOptions options, PcrExtender& extender);

  // Measures one batch with ONE extend: lock, repair leftovers, mark, append the
  // batch-part records when the batch exceeds max_batch_content_bytes, extend,
  // append the batch record, fsync, clear the mark, unlock. Readers (LOCK_SH) never
  // see parts without their batch; a crash in between leaves the mark set, so the
  // next writer's recovery record separates the orphaned parts from later records.
  [[nodiscard]] Result<CelAppendResult> appendBatch(std::span<const BatchEntry> entries);
  // One extending Bulwark content (today: "batch", without parts).
  [[nodiscard]] Result<CelAppendResult> appendContent(const nlohmann::json& content);

  // Starts the log for this boot: a log written in another boot (its first record is
  // not a log-start with `boot_id`) is renamed to <path>.prev and a new log begins
  // with a no-action log-start record. Call once at agent start, before appending.
  [[nodiscard]] Result<CelBootLogResult> beginBoot(std::string_view boot_id);

  const CelWriterOptions& options() const { return options_; }

 private:
  CelWriter(CelWriterOptions options, PcrExtender& extender)
      : options_(std::move(options)), extender_(&extender) {}

  // `parts`: batch-part contents `content` lists, in order (may be empty).
  Result<CelAppendResult> appendRecords(std::span<const nlohmann::json> parts,
                                        const nlohmann::json& content);
  // Under the lock: repair leftovers (writing a recovery record) and check room for
  // `extra` bytes plus the record (twice: a recovery marker may precede it).
  Result<CelRecovery> prepareLog(CelLogFile& file, std::size_t record_size, std::size_t extra = 0);
  // Mark, append `parts_text` (no extend), extend, append `text`, fsync, unmark.
  // Returns the offset of `text`.
  Result<std::size_t> extendAndAppend(CelLogFile& file, const std::vector<CelDigest>& digests,
                                      std::string_view text, std::string_view parts_text = {});
  Result<CelBootLogResult> continueBootLog(CelLogFile& file);

  CelWriterOptions options_;
  PcrExtender* extender_;
};

}  // namespace bulwark::attest
