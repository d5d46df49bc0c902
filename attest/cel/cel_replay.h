// Replays a parsed CEL log into PCR values, bank by bank, in software
// (new = H(old || digest), TPM 2.0 Part 1 §17.6.2). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "attest/cel/cel_record.h"
#include "attest/core/error.h"

namespace bulwark::attest {

// Final value of every PCR the log extends, by PCR index.
using CelPcrValues = std::map<std::uint32_t, Bytes>;

struct CelReplayOptions {
  // Banks to replay. Empty: every bank that any record carries a digest for.
  std::vector<HashAlg> banks;
  // Start values, e.g. the result of replaying an earlier log of the same PCR. A
  // (bank, pcr) not listed starts at its reset value (pcrResetValue).
  std::map<std::pair<HashAlg, std::uint32_t>, Bytes> initial;
};

struct CelReplay {
  // One entry per replayed bank. An Error means that bank cannot be replayed (a
  // record that extends a PCR lacks a digest for it, or a bad start value); other
  // banks are unaffected.
  std::map<HashAlg, Result<CelPcrValues>> banks;
  std::size_t extend_records = 0;     // records that extend a PCR
  std::size_t no_action_records = 0;  // empty digest lists: skipped
  std::size_t nv_records = 0;         // nv_index records: not PCR extends, skipped
};

// Value of a PCR after TPM2_Startup(CLEAR): zero, except PCRs 17-22 which start at
// all ones until a dynamic launch (TCG PC Client Platform TPM Profile, PCR table).
Bytes pcrResetValue(HashAlg alg, std::uint32_t pcr);

CelReplay replayCel(const CelLog& log, const CelReplayOptions& options = {});

}  // namespace bulwark::attest
