#include "attest/eventlog/replay.h"

#include <algorithm>
#include <cstring>

#include "attest/eventlog/event_types.h"
#include "attest/eventlog/reader.h"

namespace bulwark::attest::eventlog {

namespace {

constexpr char kStartupLocality[16] = "StartupLocality";  // 15 chars + NUL (PFP §10.4.5.3)

// Returns the locality if `ev` is a StartupLocality record.
std::optional<Result<std::uint8_t>> startupLocality(const Event& ev) {
  if (ev.type != ev::kNoAction || ev.data.size() < 16 ||
      std::memcmp(ev.data.data(), kStartupLocality, 16) != 0) {
    return std::nullopt;
  }
  if (ev.data.size() != 17) {
    return fail(ErrorCode::kMalformed, "StartupLocality record of " +
                                           std::to_string(ev.data.size()) + " bytes (expected 17)",
                offsetContext(ev.offset));
  }
  if (ev.data[16] > 4) {
    return fail(ErrorCode::kMalformed, "StartupLocality " + std::to_string(ev.data[16]),
                offsetContext(ev.offset));
  }
  return Result<std::uint8_t>(ev.data[16]);
}

std::vector<HashAlg> replayableBanks(const EventLog& log, std::vector<std::uint16_t>& skipped) {
  std::vector<HashAlg> algs;
  if (!log.spec_id) return {HashAlg::kSha1};
  for (const auto& row : log.spec_id->algorithms) {
    auto alg = hashAlgFromId(row.alg_id);
    if (!alg) {
      skipped.push_back(row.alg_id);
      continue;
    }
    bool complete = std::all_of(log.events.begin() + 1, log.events.end(), [&](const Event& e) {
      return e.type == ev::kNoAction || e.digestFor(*alg) != nullptr;
    });
    if (complete) {
      algs.push_back(*alg);
    } else {
      skipped.push_back(row.alg_id);
    }
  }
  return algs;
}

}  // namespace

Bytes initialPcrValue(HashAlg alg, std::uint32_t pcr, std::uint8_t startup_locality) {
  Bytes v(hashAlgSize(alg), 0);
  if (pcr >= 17 && pcr <= 22) std::fill(v.begin(), v.end(), 0xFF);
  if (pcr == 0) v.back() = startup_locality;
  return v;
}

Result<Replay> replay(const EventLog& log) {
  Replay out;
  std::vector<HashAlg> algs = replayableBanks(log, out.skipped_alg_ids);
  bool pcr0_extended = false;
  bool locality_seen = false;
  std::vector<bool> extended(kNumPcrs, false);
  // The locality must be known before PCR 0's initial value is used, so find it first.
  for (const auto& ev : log.events) {
    if (ev.type != ev::kNoAction && ev.pcr == 0) pcr0_extended = true;
    auto loc = startupLocality(ev);
    if (!loc) continue;
    if (!*loc) return std::unexpected(loc->error());
    if (locality_seen || pcr0_extended) {
      return fail(ErrorCode::kMalformed,
                  locality_seen ? "second StartupLocality record"
                                : "StartupLocality record after PCR 0 was extended",
                  offsetContext(ev.offset));
    }
    locality_seen = true;
    out.startup_locality = **loc;
  }
  for (HashAlg alg : algs) {
    auto& bank = out.banks[alg];
    for (std::uint32_t i = 0; i < kNumPcrs; ++i) bank[i] = initialPcrValue(alg, i, out.startup_locality);
  }
  // Index 0 of a crypto-agile log is the Spec ID record: EV_NO_ACTION, never extended.
  for (const auto& ev : log.events) {
    if (ev.type == ev::kNoAction) continue;
    if (ev.pcr >= kNumPcrs) {
      return fail(ErrorCode::kMalformed, "PCR index " + std::to_string(ev.pcr) + " out of range",
                  offsetContext(ev.offset));
    }
    extended[ev.pcr] = true;
    for (HashAlg alg : algs) {
      const Bytes* d = ev.digestFor(alg);
      Bytes& pcr = out.banks[alg][ev.pcr];
      pcr = pcrExtend(alg, pcr, *d);  // replayableBanks guarantees d != nullptr
    }
  }
  for (std::uint32_t i = 0; i < kNumPcrs; ++i) {
    if (extended[i]) out.extended_pcrs.push_back(i);
  }
  return out;
}

std::string PcrMismatch::toString() const {
  return std::string(hashAlgName(alg)) + " PCR " + std::to_string(pcr) + ": quoted " +
         toHex(quoted) + ", log replays to " + (replayed.empty() ? "(no such bank in log)" : toHex(replayed));
}

std::vector<PcrMismatch> comparePcrs(const Replay& replayed, const PcrBanks& quoted) {
  std::vector<PcrMismatch> out;
  for (const auto& [alg, values] : quoted) {
    auto bank = replayed.banks.find(alg);
    for (const auto& [pcr, value] : values) {
      if (bank == replayed.banks.end()) {
        out.push_back({alg, pcr, value, {}});
        continue;
      }
      auto it = bank->second.find(pcr);
      if (it == bank->second.end() || it->second != value) {
        out.push_back({alg, pcr, value, it == bank->second.end() ? Bytes{} : it->second});
      }
    }
  }
  return out;
}

}  // namespace bulwark::attest::eventlog
