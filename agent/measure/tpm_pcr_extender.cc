#include "agent/measure/tpm_pcr_extender.h"

#include <string>

namespace bulwark::agent {

Result<void> TpmPcrExtender::extend(std::uint32_t pcr,
                                    const std::vector<std::pair<HashAlg, Bytes>>& digests) {
  std::vector<attest::TaggedDigest> tagged;
  tagged.reserve(digests.size());
  for (const auto& [alg, value] : digests) tagged.push_back({alg, value});
  // Counted before the call: a command whose response was lost still reached the TPM.
  extends_.fetch_add(1);
  auto r = tpm_.extendPcr(pcr, tagged);
  if (!r) {
    Error e = r.error();
    return std::unexpected(e.within("extend PCR " + std::to_string(pcr)));
  }
  return {};
}

Result<std::vector<HashAlg>> allocatedBanks(attest::Tpm& tpm, std::uint32_t pcr) {
  if (pcr >= attest::kMaxPcrs) {
    return fail(ErrorCode::kInvalidArgument, "PCR " + std::to_string(pcr) + " out of range");
  }
  std::vector<HashAlg> banks;
  for (HashAlg alg : kAllHashAlgs) {
    attest::PcrSelection selection;
    if (auto r = selection.add(alg, 1u << pcr); !r) return std::unexpected(r.error());
    auto values = tpm.readPcrs(selection);
    if (values) {
      // A TPM may answer with an empty selection for an unallocated bank.
      bool has = !values->empty() && !values->front().values.empty();
      if (has) banks.push_back(alg);
      continue;
    }
    if (values.error().code() == ErrorCode::kNotFound) continue;
    Error e = values.error();
    return std::unexpected(e.within("reading PCR banks"));
  }
  if (banks.empty()) {
    return fail(ErrorCode::kNotFound,
                "no SHA-1/SHA-2 bank allocated for PCR " + std::to_string(pcr));
  }
  return banks;
}

}  // namespace bulwark::agent
