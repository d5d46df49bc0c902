// IMA measurement list: whole-log parsing, and incremental replay to PCR values
// that a verifier keeps between attestations (feed only what was appended since).
//
// How the kernel extends (security/integrity/ima/ima_queue.c ima_pcr_extend and
// ima_crypto.c ima_calc_field_array_hash, Linux >= 5.11 with multi-bank support):
// for every allocated PCR bank the kernel hashes the template data with *that
// bank's* algorithm and extends the bank with it; the SHA-1 value is what
// ascii_runtime_measurements prints. So the logged SHA-1 template hash replays the
// sha1 bank, and a sha256/384/512 bank is replayed by recomputing
// H_bank(template data) here. A violation extends every bank with all-ones of the
// bank's size (ima_add_violation: "digests of 0xff"). Banks whose algorithm the
// kernel's crypto API lacks get the zero-padded SHA-1 — not modelled (the four
// TPM banks Bulwark supports are all available in the kernel).
#pragma once

#include <cstddef>
#include <map>
#include <string_view>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"
#include "attest/ima/ima_entry.h"

namespace bulwark::attest::ima {

// Bank → PCR → value.
using ImaPcrs = std::map<HashAlg, std::map<std::uint32_t, Bytes>>;

// Everything a verifier must keep to continue a replay later.
struct ImaState {
  std::size_t offset = 0;   // bytes of the list consumed (always at a line start)
  std::size_t entries = 0;  // entries consumed
  ImaPcrs pcrs;             // running values of every PCR the list extended
};

// Parses complete lines of `text` (which starts at byte `state.offset` of the list,
// entry `state.entries`). A trailing line without '\n' is not consumed: the agent may
// have read the list mid-write. Errors leave nothing half-applied.
struct ImaBatch {
  std::vector<ImaEntry> entries;
  std::size_t consumed = 0;  // bytes of `text` used
};
[[nodiscard]] Result<ImaBatch> parseImaLines(std::string_view text, std::size_t offset, std::size_t first_index,
                                             const ImaParseOptions& options = {});

// The value `entry` extends `bank` with.
Bytes extendValue(const ImaEntry& entry, HashAlg bank);

// Incremental replay. Not thread-safe; one per (node, boot).
class ImaReplayer {
 public:
  explicit ImaReplayer(std::vector<HashAlg> banks, ImaParseOptions options = {});
  // Continues from a saved state (its banks are the ones replayed).
  explicit ImaReplayer(ImaState state, ImaParseOptions options = {});

  // Consumes the complete lines of `text` (bytes starting at state().offset).
  // Returns the new entries; on error the state is unchanged.
  [[nodiscard]] Result<std::vector<ImaEntry>> feed(std::string_view text);
  const ImaState& state() const { return state_; }
  // Running value of `pcr` in `bank`: the initial zero value when never extended.
  Bytes pcr(HashAlg bank, std::uint32_t pcr = 10) const;

 private:
  ImaState state_;
  std::vector<HashAlg> banks_;
  ImaParseOptions options_;
};

// Whole-log convenience: parses every line (a final line must end in '\n' or is
// reported as truncated) and replays `banks`.
struct ImaLog {
  std::vector<ImaEntry> entries;
  ImaState state;
};
[[nodiscard]] Result<ImaLog> parseImaLog(std::string_view text, std::vector<HashAlg> banks = {HashAlg::kSha1, HashAlg::kSha256},
                                         const ImaParseOptions& options = {});

// boot_aggregate as the kernel computes it (ima_crypto.c ima_calc_boot_aggregate):
// H(PCR0 || ... || PCR7) in `alg`'s bank, and for non-SHA-1 banks also PCR 8 and 9.
// `pcrs` must hold PCRs 0-7 (and 8-9 for non-SHA-1) of that bank.
[[nodiscard]] Result<Bytes> bootAggregate(HashAlg alg, const std::map<std::uint32_t, Bytes>& pcrs);

}  // namespace bulwark::attest::ima
