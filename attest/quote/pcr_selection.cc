#include "attest/quote/pcr_selection.h"

#include <algorithm>
#include <charconv>

namespace bulwark::attest {

namespace {

// tpm2-tools' "all" selects the 24 PCRs of a PC Client TPM (pcrSelect = ff ff ff).
constexpr std::uint32_t kAllPcrs = 0x00ffffffu;

std::string bankLabel(HashAlg alg, std::uint32_t index) {
  return std::string(hashAlgName(alg)) + ":" + std::to_string(index);
}

Result<std::uint32_t> parseIndexList(std::string_view list, std::string_view spec) {
  if (list == "all") return kAllPcrs;
  std::uint32_t mask = 0;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    std::uint32_t index = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), index);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() ||
        index >= kMaxPcrs) {
      return fail(ErrorCode::kInvalidArgument,
                  "bad PCR index '" + std::string(item) + "' (expected 0..31)", std::string(spec));
    }
    if (mask & (1u << index)) {
      return fail(ErrorCode::kInvalidArgument, "PCR " + std::to_string(index) + " listed twice",
                  std::string(spec));
    }
    mask |= 1u << index;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    if (list.empty()) {
      return fail(ErrorCode::kInvalidArgument, "trailing ','", std::string(spec));
    }
  }
  return mask;
}

}  // namespace

Result<PcrSelection> PcrSelection::parse(std::string_view spec) {
  PcrSelection sel;
  std::string_view rest = spec;
  while (true) {
    std::size_t plus = rest.find('+');
    std::string_view bank = rest.substr(0, plus);
    std::size_t colon = bank.find(':');
    if (colon == std::string_view::npos) {
      return fail(ErrorCode::kInvalidArgument, "expected <hash>:<pcr>[,<pcr>...]",
                  std::string(spec));
    }
    auto alg = hashAlgFromName(bank.substr(0, colon));
    if (!alg) {
      return fail(ErrorCode::kInvalidArgument,
                  "unknown PCR bank '" + std::string(bank.substr(0, colon)) + "'",
                  std::string(spec));
    }
    auto mask = parseIndexList(bank.substr(colon + 1), spec);
    if (!mask) return std::unexpected(mask.error());
    if (auto added = sel.add(*alg, *mask); !added) {
      return std::unexpected(added.error().within(spec));
    }
    if (plus == std::string_view::npos) break;
    rest.remove_prefix(plus + 1);
  }
  return sel;
}

Result<void> PcrSelection::add(HashAlg alg, std::uint32_t mask) {
  if (mask == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "bank " + std::string(hashAlgName(alg)) + " selects no PCR");
  }
  for (const auto& b : banks()) {
    if (b.alg == alg) {
      return fail(ErrorCode::kInvalidArgument,
                  "bank " + std::string(hashAlgName(alg)) + " selected twice");
    }
  }
  if (size_ == kMaxBanks) return fail(ErrorCode::kInvalidArgument, "too many PCR banks");
  banks_[size_++] = PcrBankSelection{alg, mask};
  return {};
}

std::size_t PcrSelection::pcrCount() const {
  std::size_t n = 0;
  for (const auto& b : banks()) n += static_cast<std::size_t>(__builtin_popcount(b.mask));
  return n;
}

std::string PcrSelection::toString() const {
  std::string out;
  for (const auto& b : banks()) {
    if (!out.empty()) out += '+';
    out += hashAlgName(b.alg);
    char sep = ':';
    for (std::uint32_t i = 0; i < kMaxPcrs; ++i) {
      if ((b.mask & (1u << i)) == 0) continue;
      out += sep;
      out += std::to_string(i);
      sep = ',';
    }
  }
  return out;
}

bool PcrSelection::operator==(const PcrSelection& other) const {
  return std::ranges::equal(banks(), other.banks());
}

const Bytes* findPcrValue(std::span<const PcrBankValues> values, HashAlg alg,
                          std::uint32_t index) {
  for (const auto& bank : values) {
    if (bank.alg != alg) continue;
    for (const auto& v : bank.values) {
      if (v.index == index) return &v.value;
    }
  }
  return nullptr;
}

Result<void> checkPcrValuesMatch(const PcrSelection& selection,
                                 std::span<const PcrBankValues> values) {
  // Every supplied value must be selected, unique and of the bank's size...
  std::size_t supplied = 0;
  for (std::size_t b = 0; b < values.size(); ++b) {
    const PcrBankValues& bank = values[b];
    const PcrBankSelection* sel = nullptr;
    for (const auto& s : selection.banks()) {
      if (s.alg == bank.alg) sel = &s;
    }
    for (std::size_t b2 = 0; b2 < b; ++b2) {
      if (values[b2].alg == bank.alg) {
        return fail(ErrorCode::kMalformed,
                    "PCR bank " + std::string(hashAlgName(bank.alg)) + " supplied twice");
      }
    }
    for (const PcrValue& v : bank.values) {
      // Labels are built only on failure: this runs on every verification.
      if (sel == nullptr || v.index >= kMaxPcrs || (sel->mask & (1u << v.index)) == 0) {
        return fail(ErrorCode::kMalformed, "value for PCR " + bankLabel(bank.alg, v.index) +
                                               " is not in the selection " + selection.toString());
      }
      if (v.value.size() != hashAlgSize(bank.alg)) {
        return fail(ErrorCode::kMalformed, "value for PCR " + bankLabel(bank.alg, v.index) +
                                               " has " + std::to_string(v.value.size()) + " bytes");
      }
      if (findPcrValue(values, bank.alg, v.index) != &v.value) {
        return fail(ErrorCode::kMalformed, "PCR " + bankLabel(bank.alg, v.index) + " has two values");
      }
      ++supplied;
    }
  }
  // ...and, values being unique and selected, equal counts mean full coverage.
  if (supplied != selection.pcrCount()) {
    return fail(ErrorCode::kMalformed, "PCR values cover " + std::to_string(supplied) + " of the " +
                                           std::to_string(selection.pcrCount()) +
                                           " PCRs in the selection " + selection.toString());
  }
  return {};
}

Result<PcrValues> selectPcrValues(std::span<const PcrBankValues> values,
                                  const PcrSelection& selection) {
  PcrValues out;
  for (const auto& bank : selection.banks()) {
    PcrBankValues& dst = out.emplace_back(PcrBankValues{bank.alg, {}});
    for (std::uint32_t i = 0; i < kMaxPcrs; ++i) {
      if ((bank.mask & (1u << i)) == 0) continue;
      const Bytes* v = findPcrValue(values, bank.alg, i);
      if (v == nullptr) {
        return fail(ErrorCode::kMalformed, "no value for PCR " + bankLabel(bank.alg, i));
      }
      if (v->size() != hashAlgSize(bank.alg)) {
        return fail(ErrorCode::kMalformed, "value for PCR " + bankLabel(bank.alg, i) + " has " +
                                               std::to_string(v->size()) + " bytes");
      }
      dst.values.push_back(PcrValue{i, *v});
    }
  }
  return out;
}

Result<Bytes> computePcrDigest(HashAlg alg, const PcrSelection& selection,
                               std::span<const PcrBankValues> values) {
  if (auto ok = checkPcrValuesMatch(selection, values); !ok) return std::unexpected(ok.error());
  Hasher hasher(alg);
  forEachQuotedValue(selection, values, [&](ByteView v) { hasher.update(v); });
  return hasher.finish();
}

}  // namespace bulwark::attest
