// Replays a parsed firmware event log into PCR values per bank, the way the TPM
// computed them: PCR[i] = H(PCR[i] || digest) for every record except EV_NO_ACTION
// (PFP §10.4.1: "not extended"). Initial values (PFP §3.3.4 / TPM 2.0 Part 1 §34.3):
//  - PCR 0: zero, except the last byte is the locality from a "StartupLocality"
//    EV_NO_ACTION record (0 or 3; 4 for an H-CRTM) that must precede any PCR 0 extend;
//  - PCRs 17-22: all 0xFF (DRTM PCRs before a dynamic launch);
//  - every other PCR: zero.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attest/core/bytes.h"
#include "attest/core/digest.h"
#include "attest/core/error.h"
#include "attest/eventlog/event_log.h"

namespace bulwark::attest::eventlog {

// PCR index → value, for one bank.
using PcrValues = std::map<std::uint32_t, Bytes>;
// Bank → PCR values. Also the shape of quoted PCRs handed to comparePcrs().
using PcrBanks = std::map<HashAlg, PcrValues>;

struct Replay {
  // All 24 PCRs for every bank the log carries and Bulwark can hash.
  PcrBanks banks;
  std::uint8_t startup_locality = 0;
  // PCRs that at least one record extended (the others sit at their initial value).
  std::vector<std::uint32_t> extended_pcrs;
  // Spec ID algorithms that were not replayed: unknown to Bulwark, or missing from
  // some extending record. A quote over such a bank can never match.
  std::vector<std::uint16_t> skipped_alg_ids;
};

// The PFP initial value of `pcr` in a bank of `alg` given the startup locality.
Bytes initialPcrValue(HashAlg alg, std::uint32_t pcr, std::uint8_t startup_locality);

// Errors (kMalformed): a StartupLocality record after PCR 0 was extended, a second
// StartupLocality, or a locality above 4.
[[nodiscard]] Result<Replay> replay(const EventLog& log);

// One PCR whose quoted value the log does not reproduce.
struct PcrMismatch {
  HashAlg alg;
  std::uint32_t pcr;
  Bytes quoted;
  Bytes replayed;  // empty when the log has no such bank
  std::string toString() const;
};

// Compares every quoted (bank, PCR) with the replay; empty result = the log replays.
std::vector<PcrMismatch> comparePcrs(const Replay& replayed, const PcrBanks& quoted);

}  // namespace bulwark::attest::eventlog
