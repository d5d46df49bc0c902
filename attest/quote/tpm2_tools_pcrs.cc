#include "attest/quote/tpm2_tools_pcrs.h"

#include <string>

namespace bulwark::attest {

namespace {

// Sizes of tpm2-tss 3.x structs as tpm2-tools fwrite()s them (see the header).
constexpr std::size_t kNumBanks = 16;          // TPM2_NUM_PCR_BANKS
constexpr std::size_t kSelectMax = 4;          // TPM2_PCR_SELECT_MAX
constexpr std::size_t kPcrSelectionSize = 8;   // u16 + u8 + u8[4] + pad
constexpr std::size_t kSelectionListSize = 4 + kNumBanks * kPcrSelectionSize;  // 132
constexpr std::size_t kDigestsPerList = 8;     // TPML_DIGEST.digests[8]
constexpr std::size_t kDigestMax = 64;         // sizeof(TPMU_HA)
constexpr std::size_t kDigestSize = 2 + kDigestMax;                            // 66
constexpr std::size_t kDigestListSize = 4 + kDigestsPerList * kDigestSize;     // 532
constexpr std::size_t kMaxDigestLists = 32;    // tpm2_pcrs.pcr_values[TPM2_MAX_PCRS]

std::uint16_t le16(ByteView b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}
std::uint32_t le32(ByteView b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24);
}
void putLe16(Bytes& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v);
  out[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void putLe32(Bytes& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

Result<PcrSelection> parseSelection(ByteView b) {
  std::uint32_t count = le32(b, 0);
  if (count == 0 || count > kNumBanks) {
    return fail(ErrorCode::kMalformed, "PCR selection count " + std::to_string(count));
  }
  PcrSelection sel;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t at = 4 + i * kPcrSelectionSize;
    std::uint16_t hash = le16(b, at);
    std::uint8_t size_of_select = b[at + 2];
    auto alg = hashAlgFromId(hash);
    if (!alg) return fail(ErrorCode::kUnsupported, "PCR bank hash 0x" + toHex(b.subspan(at, 2)));
    if (size_of_select > kSelectMax) {
      return fail(ErrorCode::kMalformed, "sizeofSelect " + std::to_string(size_of_select));
    }
    std::uint32_t mask = 0;
    for (std::size_t k = 0; k < size_of_select; ++k) mask |= std::uint32_t{b[at + 3 + k]} << (8 * k);
    if (auto ok = sel.add(*alg, mask); !ok) {
      return fail(ErrorCode::kMalformed, ok.error().message());
    }
  }
  return sel;
}

// Flattens the TPML_DIGEST records into one list of digests.
Result<std::vector<ByteView>> parseDigests(ByteView b, std::size_t lists) {
  std::vector<ByteView> out;
  for (std::size_t l = 0; l < lists; ++l) {
    std::size_t base = l * kDigestListSize;
    std::uint32_t count = le32(b, base);
    if (count > kDigestsPerList) {
      return fail(ErrorCode::kMalformed, "TPML_DIGEST count " + std::to_string(count));
    }
    for (std::size_t d = 0; d < count; ++d) {
      std::size_t at = base + 4 + d * kDigestSize;
      std::uint16_t size = le16(b, at);
      if (size > kDigestMax) {
        return fail(ErrorCode::kMalformed, "TPM2B_DIGEST size " + std::to_string(size));
      }
      out.push_back(b.subspan(at + 2, size));
    }
  }
  return out;
}

}  // namespace

Result<Tpm2ToolsPcrs> parseTpm2ToolsPcrs(ByteView bytes) {
  constexpr std::size_t kHeader = kSelectionListSize + 4;
  if (bytes.size() < kHeader) {
    return fail(ErrorCode::kMalformed, "tpm2-tools PCR file too short (" +
                                           std::to_string(bytes.size()) + " bytes)");
  }
  auto selection = parseSelection(bytes.first(kSelectionListSize));
  if (!selection) return std::unexpected(selection.error().within("tpm2-tools PCR file"));
  std::uint32_t lists = le32(bytes, kSelectionListSize);
  if (lists > kMaxDigestLists || bytes.size() != kHeader + lists * kDigestListSize) {
    return fail(ErrorCode::kMalformed, "tpm2-tools PCR file: " + std::to_string(lists) +
                                           " digest lists do not fit its " +
                                           std::to_string(bytes.size()) + " bytes");
  }
  auto digests = parseDigests(bytes.subspan(kHeader), lists);
  if (!digests) return std::unexpected(digests.error().within("tpm2-tools PCR file"));
  if (digests->size() != selection->pcrCount()) {
    return fail(ErrorCode::kMalformed, "tpm2-tools PCR file has " +
                                           std::to_string(digests->size()) + " values for " +
                                           std::to_string(selection->pcrCount()) + " PCRs");
  }
  Tpm2ToolsPcrs out{*selection, {}};
  std::size_t next = 0;
  for (const auto& bank : selection->banks()) {
    PcrBankValues& dst = out.values.emplace_back(PcrBankValues{bank.alg, {}});
    for (std::uint32_t i = 0; i < kMaxPcrs; ++i) {
      if ((bank.mask & (1u << i)) == 0) continue;
      ByteView v = (*digests)[next++];
      if (v.size() != hashAlgSize(bank.alg)) {
        return fail(ErrorCode::kMalformed, "tpm2-tools PCR file: value of " +
                                               std::string(hashAlgName(bank.alg)) + ":" +
                                               std::to_string(i) + " has " +
                                               std::to_string(v.size()) + " bytes");
      }
      dst.values.push_back(PcrValue{i, Bytes(v.begin(), v.end())});
    }
  }
  return out;
}

Result<Bytes> serializeTpm2ToolsPcrs(const PcrSelection& selection,
                                     std::span<const PcrBankValues> values) {
  if (auto ok = checkPcrValuesMatch(selection, values); !ok) return std::unexpected(ok.error());
  std::size_t total = selection.pcrCount();
  std::size_t lists = (total + kDigestsPerList - 1) / kDigestsPerList;
  Bytes out(kSelectionListSize + 4 + lists * kDigestListSize, 0);
  putLe32(out, 0, static_cast<std::uint32_t>(selection.banks().size()));
  for (std::size_t i = 0; i < selection.banks().size(); ++i) {
    const PcrBankSelection& bank = selection.banks()[i];
    std::size_t at = 4 + i * kPcrSelectionSize;
    putLe16(out, at, static_cast<std::uint16_t>(bank.alg));
    // tpm2-tools always selects with 3 bytes unless a PCR above 23 is present.
    out[at + 2] = (bank.mask >> 24) != 0 ? 4 : 3;
    for (std::size_t k = 0; k < kSelectMax; ++k) {
      out[at + 3 + k] = static_cast<std::uint8_t>(bank.mask >> (8 * k));
    }
  }
  putLe32(out, kSelectionListSize, static_cast<std::uint32_t>(lists));
  std::size_t n = 0;
  forEachQuotedValue(selection, values, [&](ByteView v) {
    std::size_t base = kSelectionListSize + 4 + (n / kDigestsPerList) * kDigestListSize;
    std::size_t slot = n % kDigestsPerList;
    putLe32(out, base, static_cast<std::uint32_t>(slot + 1));
    std::size_t at = base + 4 + slot * kDigestSize;
    putLe16(out, at, static_cast<std::uint16_t>(v.size()));
    std::copy(v.begin(), v.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 2));
    ++n;
  });
  return out;
}

}  // namespace bulwark::attest
