#include "attest/cel/cel_replay.h"

#include <algorithm>
#include <string>

namespace bulwark::attest {

namespace {

std::vector<HashAlg> banksInLog(const CelLog& log) {
  std::vector<HashAlg> banks;
  for (const auto& r : log.records) {
    for (const auto& d : r.digests) {
      if (std::find(banks.begin(), banks.end(), d.alg) == banks.end()) banks.push_back(d.alg);
    }
  }
  std::sort(banks.begin(), banks.end());
  return banks;
}

Result<CelPcrValues> replayBank(const CelLog& log, HashAlg alg, const CelReplayOptions& options) {
  CelPcrValues values;
  for (const auto& [key, value] : options.initial) {
    if (key.first != alg) continue;
    if (key.second > kCelMaxPcr || value.size() != hashAlgSize(alg)) {
      return fail(ErrorCode::kInvalidArgument,
                  "bad start value for " + std::string(hashAlgName(alg)) + " pcr" +
                      std::to_string(key.second),
                  "cel replay");
    }
    values[key.second] = value;
  }
  for (const auto& r : log.records) {
    if (!r.pcr || r.isNoAction()) continue;
    const Bytes* d = r.digestFor(alg);
    if (d == nullptr) {
      return fail(ErrorCode::kMalformed,
                  "record " + std::to_string(r.index) + " at offset " + std::to_string(r.offset) +
                      " extends pcr" + std::to_string(*r.pcr) + " but has no " +
                      std::string(hashAlgName(alg)) + " digest",
                  "cel replay");
    }
    auto it = values.find(*r.pcr);
    if (it == values.end()) it = values.emplace(*r.pcr, pcrResetValue(alg, *r.pcr)).first;
    it->second = pcrExtend(alg, it->second, *d);
  }
  return values;
}

}  // namespace

Bytes pcrResetValue(HashAlg alg, std::uint32_t pcr) {
  std::uint8_t fill = (pcr >= 17 && pcr <= 22) ? 0xff : 0x00;
  return Bytes(hashAlgSize(alg), fill);
}

CelReplay replayCel(const CelLog& log, const CelReplayOptions& options) {
  CelReplay out;
  for (const auto& r : log.records) {
    if (!r.pcr) {
      ++out.nv_records;
    } else if (r.isNoAction()) {
      ++out.no_action_records;
    } else {
      ++out.extend_records;
    }
  }
  std::vector<HashAlg> banks = options.banks.empty() ? banksInLog(log) : options.banks;
  for (HashAlg alg : banks) out.banks.insert_or_assign(alg, replayBank(log, alg, options));
  return out;
}

}  // namespace bulwark::attest
