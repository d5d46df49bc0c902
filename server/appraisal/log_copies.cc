#include "server/appraisal/log_copies.h"

#include <algorithm>
#include <charconv>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_parser.h"

namespace bulwark::server {

namespace {

Result<std::map<std::uint32_t, Bytes>> parseChain(std::string_view text, HashAlg bank) {
  std::map<std::uint32_t, Bytes> out;
  while (!text.empty()) {
    std::string_view item = text.substr(0, text.find(';'));
    text.remove_prefix(std::min(text.size(), item.size() + 1));
    auto eq = item.find('=');
    std::uint32_t pcr = 0;
    if (eq == std::string_view::npos ||
        std::from_chars(item.data(), item.data() + eq, pcr).ec != std::errc{} || pcr > 23) {
      return fail(ErrorCode::kInternal, "stored log copy: bad PCR chain entry", "log copy");
    }
    auto value = fromHex(item.substr(eq + 1));
    if (!value || value->size() != hashAlgSize(bank))
      return fail(ErrorCode::kInternal, "stored log copy: bad PCR value", "log copy");
    out[pcr] = std::move(*value);
  }
  return out;
}

}  // namespace

Result<CopyState> copyStateOf(const LogCopy& copy) {
  auto bank = hashAlgFromName(copy.bank);
  if (!bank) return fail(ErrorCode::kInternal, "stored log copy: unknown bank", "log copy");
  auto chain = parseChain(copy.chain, *bank);
  if (!chain) return std::unexpected(chain.error());
  if (copy.bytes < 0 || copy.entries < 0)
    return fail(ErrorCode::kInternal, "stored log copy: negative position", "log copy");
  return CopyState{copy.source,
                   static_cast<std::uint64_t>(copy.bytes),
                   static_cast<std::uint64_t>(copy.entries),
                   copy.sha256,
                   *bank,
                   std::move(*chain)};
}

std::string formatChain(const std::map<std::uint32_t, Bytes>& chain) {
  std::string out;
  for (const auto& [pcr, value] : chain) {
    if (!out.empty()) out += ';';
    out += std::to_string(pcr) + "=" + toHex(value);
  }
  return out;
}

bool keepsCopy(const ParsedLog& log) {
  if (log.format != bulwark::v1::EventLog::CEL_JSON || !log.cel) return false;
  if (log.incremental()) return true;
  if (log.cel->records.empty()) return false;
  const attest::CelRecord& first = log.cel->records.front();
  if (first.content_type != attest::kBulwarkContentType) return false;
  auto event = attest::validateBulwarkContent(first.content);
  return event && *event == attest::BulwarkEvent::kLogStart;
}

std::string_view completeBytes(const ParsedEvidence& ev, const ParsedLog& log) {
  std::string_view bytes = log.expanded.empty()
                               ? std::string_view(ev.report.logs(static_cast<int>(log.index)).content())
                               : std::string_view(log.expanded);
  return bytes.substr(0, log.cel ? log.cel->complete_bytes : 0);
}

Result<void> expandEvidence(ParsedEvidence& ev, const LogCopy* copy, bool stored_evidence) {
  bool expanded = false;
  for (ParsedLog& log : ev.logs) {
    if (!log.incremental()) continue;
    bool fits = copy != nullptr && copy->source == log.source &&
                copy->content.size() == static_cast<std::uint64_t>(copy->bytes) &&
                (stored_evidence ? copy->content.size() >= log.offset
                                 : copy->content.size() == log.offset &&
                                       static_cast<std::uint64_t>(copy->entries) == log.entries_before);
    if (!fits) {
      return fail(ErrorCode::kNotFound,
                  log.label() + ": the verifier holds no verified copy ending at offset " +
                      std::to_string(log.offset) + "; send the whole log",
                  "log copy");
    }
    log.expanded = copy->content.substr(0, log.offset);
    log.expanded += ev.report.logs(static_cast<int>(log.index)).content();
    auto cel = attest::parseCel(asBytes(log.expanded));
    if (!cel) {
      return fail(ErrorCode::kMalformed,
                  log.label() + ": the shipped bytes do not continue the verifier's copy: " +
                      cel.error().message());
    }
    auto before = static_cast<std::uint64_t>(
        std::count_if(cel->records.begin(), cel->records.end(),
                      [&](const attest::CelRecord& r) { return r.offset < log.offset; }));
    if (before != log.entries_before) {
      return fail(ErrorCode::kMalformed, log.label() + ": the verifier's copy holds " +
                                             std::to_string(before) + " records before offset " +
                                             std::to_string(log.offset) + ", the report says " +
                                             std::to_string(log.entries_before));
    }
    log.cel = std::move(*cel);
    log.offset = 0;
    log.entries_before = 0;
    expanded = true;
  }
  if (expanded) collectLogged(ev);
  return {};
}

Bytes memoKey(const std::string& node, const CopyState& copy,
              std::int64_t policy_version, std::span<const MeasurementAcknowledgment> acks,
              std::span<const MeasurementEntry> reported) {
  Hasher h(HashAlg::kSha256);
  // Length-prefixed fields, so no two inputs serialize alike.
  auto field = [&h](std::string_view s) {
    std::uint64_t n = s.size();
    h.update(ByteView(reinterpret_cast<const std::uint8_t*>(&n), sizeof n));
    h.update(asBytes(s));
  };
  auto bytes = [&field](ByteView b) {
    field(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  };
  auto number = [&field](std::uint64_t v) { field(std::to_string(v)); };
  field(node);
  field(copy.source);
  number(copy.offset);
  number(copy.entries);
  bytes(copy.sha256);
  number(static_cast<std::uint64_t>(policy_version));
  number(acks.size());
  for (const auto& a : acks) {
    field(a.node);
    field(a.kind);
    field(a.subject);
    bytes(a.sha256);
    field(a.acknowledged_by);
  }
  number(reported.size());
  for (const auto& m : reported) {
    field(m.kind);
    field(m.subject);
    bytes(m.sha256);
  }
  return h.finish();
}

}  // namespace bulwark::server
