#include "agent/enroll/pcr_choice.h"

namespace bulwark::agent {

Result<attest::PcrSelection> pcrSelectionFor(const PcrChoice& choice) {
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::kMalformed, "verifier's PCR choice " + why, "pcr_bank/pcr_selection");
  };
  auto alg = hashAlgFromName(choice.bank);
  if (!alg) return bad("names an unknown bank '" + choice.bank.substr(0, 32) + "'");
  // A SHA-1 bank would let a forged log collide (TPM 2.0 Part 1 §11.4.11 keeps
  // it only for compatibility); the verifier never asks for it (docs/api.md).
  if (*alg == HashAlg::kSha1) return bad("asks for the SHA-1 bank; refusing the downgrade");
  if (choice.indices.empty()) return bad("selects no PCR");
  std::uint32_t mask = 0;
  for (std::size_t i = 0; i < choice.indices.size(); ++i) {
    std::uint32_t pcr = choice.indices[i];
    if (pcr > 23) return bad("selects PCR " + std::to_string(pcr) + " (0..23 only)");
    if (i > 0 && pcr <= choice.indices[i - 1]) return bad("is not strictly ascending");
    mask |= 1u << pcr;
  }
  attest::PcrSelection selection;
  if (auto r = selection.add(*alg, mask); !r) return std::unexpected(r.error());
  return selection;
}

Result<PcrChoice> pcrChoiceFrom(const std::string& bank,
                                const google::protobuf::RepeatedField<std::uint32_t>& selection) {
  PcrChoice choice{bank, {selection.begin(), selection.end()}};
  if (auto r = pcrSelectionFor(choice); !r) return std::unexpected(r.error());
  return choice;
}

}  // namespace bulwark::agent
