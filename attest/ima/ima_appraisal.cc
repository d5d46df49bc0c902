#include "attest/ima/ima_appraisal.h"

namespace bulwark::attest::ima {

namespace {

Bytes valueOf(const ImaPcrs& pcrs, HashAlg bank, std::uint32_t pcr) {
  auto b = pcrs.find(bank);
  if (b != pcrs.end()) {
    auto v = b->second.find(pcr);
    if (v != b->second.end()) return v->second;
  }
  return Bytes(hashAlgSize(bank), 0);
}

bool matchesQuote(const ImaPcrs& running, const ImaPcrs& quoted) {
  for (const auto& [bank, values] : quoted) {
    for (const auto& [pcr, value] : values) {
      if (valueOf(running, bank, pcr) != value) return false;
    }
  }
  return true;
}

void extend(ImaPcrs& pcrs, const ImaEntry& e, const ImaPcrs& quoted) {
  for (const auto& [bank, values] : quoted) {
    auto& v = pcrs[bank].try_emplace(e.pcr, Bytes(hashAlgSize(bank), 0)).first->second;
    v = pcrExtend(bank, v, extendValue(e, bank));
  }
}

}  // namespace

std::string_view imaOutcomeName(ImaOutcome o) {
  switch (o) {
    case ImaOutcome::kAffirming: return "affirming";
    case ImaOutcome::kPolicyFindings: return "policy-findings";
    case ImaOutcome::kDoesNotReplay: return "log-does-not-replay";
    case ImaOutcome::kMalformed: return "log-malformed";
  }
  return "unknown";
}

ImaAppraisal appraiseIma(const ImaState& previous, std::string_view appended, const ImaPcrs& quoted,
                         const ImaPolicy& policy, const ImaParseOptions& options) {
  ImaAppraisal out;
  out.state = previous;
  if (quoted.empty()) {
    out.outcome = ImaOutcome::kDoesNotReplay;
    out.detail = "no quoted PCR values";
    return out;
  }
  auto batch = parseImaLines(appended, previous.offset, previous.entries, options);
  if (!batch) {
    out.detail = batch.error().toString();
    return out;
  }
  // Try every prefix, shortest first: hash chains do not repeat, so at most one matches.
  ImaPcrs running = previous.pcrs;
  std::optional<std::size_t> match = matchesQuote(running, quoted) ? std::optional<std::size_t>(0) : std::nullopt;
  for (std::size_t i = 0; i < batch->entries.size() && !match; ++i) {
    extend(running, batch->entries[i], quoted);
    if (matchesQuote(running, quoted)) match = i + 1;
  }
  if (!match) {
    out.outcome = ImaOutcome::kDoesNotReplay;
    out.detail = "none of the " + std::to_string(batch->entries.size()) +
                 " appended entries brings the PCRs to the quoted values";
    return out;
  }
  out.entries.assign(batch->entries.begin(), batch->entries.begin() + static_cast<std::ptrdiff_t>(*match));
  out.state.pcrs = std::move(running);
  out.state.entries += *match;
  if (*match > 0) {  // just past the last covered line
    std::size_t line_start = out.entries.back().offset - previous.offset;
    out.state.offset = previous.offset + appended.find('\n', line_start) + 1;
  }
  out.findings = evaluateImaPolicy(out.entries, policy);
  out.outcome = out.findings.empty() ? ImaOutcome::kAffirming : ImaOutcome::kPolicyFindings;
  out.detail = std::to_string(*match) + " entries replayed to the quote";
  return out;
}

}  // namespace bulwark::attest::ima
