#include "attest/ima/ima_log.h"

#include <algorithm>
#include <utility>

namespace bulwark::attest::ima {

Result<ImaBatch> parseImaLines(std::string_view text, std::size_t offset, std::size_t first_index,
                               const ImaParseOptions& options) {
  ImaBatch batch;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (text.size() - pos > options.max_line) {
        return fail(ErrorCode::kMalformed, "unterminated line over " + std::to_string(options.max_line) + " bytes",
                    "offset " + std::to_string(offset + pos));
      }
      break;  // incomplete last line: left for the next read
    }
    auto entry = parseImaLine(text.substr(pos, nl - pos), offset + pos, first_index + batch.entries.size(), options);
    if (!entry) return std::unexpected(entry.error());
    batch.entries.push_back(std::move(*entry));
    pos = nl + 1;
  }
  batch.consumed = pos;
  return batch;
}

Bytes extendValue(const ImaEntry& entry, HashAlg bank) {
  if (entry.isViolation()) return Bytes(hashAlgSize(bank), 0xFF);
  if (bank == entry.template_hash_alg) return entry.template_hash;
  return digest(bank, entry.templateData());
}

ImaReplayer::ImaReplayer(std::vector<HashAlg> banks, ImaParseOptions options)
    : banks_(std::move(banks)), options_(options) {}

ImaReplayer::ImaReplayer(ImaState state, ImaParseOptions options) : state_(std::move(state)), options_(options) {
  for (const auto& [alg, values] : state_.pcrs) banks_.push_back(alg);
}

Result<std::vector<ImaEntry>> ImaReplayer::feed(std::string_view text) {
  auto batch = parseImaLines(text, state_.offset, state_.entries, options_);
  if (!batch) return std::unexpected(batch.error());
  ImaPcrs next = state_.pcrs;
  for (const auto& e : batch->entries) {
    for (HashAlg bank : banks_) {
      auto& values = next[bank];
      auto it = values.try_emplace(e.pcr, Bytes(hashAlgSize(bank), 0)).first;
      it->second = pcrExtend(bank, it->second, extendValue(e, bank));
    }
  }
  state_.pcrs = std::move(next);
  state_.offset += batch->consumed;
  state_.entries += batch->entries.size();
  return std::move(batch->entries);
}

Bytes ImaReplayer::pcr(HashAlg bank, std::uint32_t index) const {
  auto b = state_.pcrs.find(bank);
  if (b != state_.pcrs.end()) {
    auto v = b->second.find(index);
    if (v != b->second.end()) return v->second;
  }
  return Bytes(hashAlgSize(bank), 0);
}

Result<ImaLog> parseImaLog(std::string_view text, std::vector<HashAlg> banks, const ImaParseOptions& options) {
  ImaReplayer r(std::move(banks), options);
  auto entries = r.feed(text);
  if (!entries) return std::unexpected(entries.error());
  if (r.state().offset != text.size()) {
    return fail(ErrorCode::kMalformed, "last line is not terminated", "offset " + std::to_string(r.state().offset));
  }
  return ImaLog{std::move(*entries), r.state()};
}

Result<Bytes> bootAggregate(HashAlg alg, const std::map<std::uint32_t, Bytes>& pcrs) {
  Hasher h(alg);
  std::uint32_t last = alg == HashAlg::kSha1 ? 7 : 9;
  for (std::uint32_t i = 0; i <= last; ++i) {
    auto it = pcrs.find(i);
    if (it == pcrs.end() || it->second.size() != hashAlgSize(alg)) {
      return fail(ErrorCode::kInvalidArgument, "boot_aggregate needs PCR " + std::to_string(i) + " of the " +
                                                   std::string(hashAlgName(alg)) + " bank");
    }
    h.update(it->second);
  }
  return h.finish();
}

}  // namespace bulwark::attest::ima
