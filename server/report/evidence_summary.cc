#include "server/report/evidence_summary.h"

#include <map>
#include <set>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_parser.h"

#include "bulwark/v1/evidence.pb.h"
#include "server/report/report_model.h"

namespace bulwark::server::report {

namespace {
using nlohmann::json;

// Agent strings can hold any bytes; nlohmann refuses to serialise invalid UTF-8, so text
// copied into a report is made valid here (invalid sequences become U+FFFD).
std::string utf8(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace))
      .get<std::string>();
}

std::string_view formatName(bulwark::v1::EventLog::Format f) {
  switch (f) {
    case bulwark::v1::EventLog::TCG_PC_CLIENT:
      return "tcg-pc-client";
    case bulwark::v1::EventLog::CEL_JSON:
      return "cel-json";
    case bulwark::v1::EventLog::IMA_ASCII:
      return "ima-ascii";
    default:
      return "unspecified";
  }
}

json hostJson(const bulwark::v1::HostFacts& h) {
  return {{"hostname", utf8(h.hostname())},
          {"os_release", utf8(h.os_release())},
          {"kernel", utf8(h.kernel())},
          {"boot_id", utf8(h.boot_id())},
          {"agent_version", utf8(h.agent_version())},
          {"machine_id", utf8(h.machine_id())}};
}

json banksJson(const bulwark::v1::Quote& q) {
  json banks = json::array();
  for (const auto& bank : q.pcrs()) {
    json indices = json::array();
    for (const auto& pcr : bank.pcrs()) indices.push_back(pcr.index());
    banks.push_back({{"hash_alg", utf8(bank.hash_alg())}, {"pcrs", std::move(indices)}});
  }
  return banks;
}

// Distinct (kind, subject) of the report's list and of every CEL log's batch records.
std::set<std::pair<std::string, std::string>> measuredSubjects(const bulwark::v1::Report& r,
                                                               const LogCopy* copy) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& m : r.measurements()) out.emplace(m.kind(), m.subject());
  for (const auto& l : r.logs()) {
    if (l.format() != bulwark::v1::EventLog::CEL_JSON) continue;
    std::string bytes;
    if (l.offset() > 0) {
      if (!copy || copy->source != l.source() || copy->content.size() < l.offset()) continue;
      bytes = copy->content.substr(0, l.offset());
    }
    bytes += l.content();
    auto cel = attest::parseCel(asBytes(bytes));
    if (!cel) continue;
    for (const auto& e : attest::loggedBatchEntries(*cel)) out.emplace(e.kind, e.subject);
  }
  return out;
}

json reportJson(const bulwark::v1::Report& r, const LogCopy* copy) {
  std::map<std::string, std::size_t> by_kind;
  auto measured = measuredSubjects(r, copy);
  for (const auto& [kind, subject] : measured) by_kind[utf8(kind)]++;
  json logs = json::array();
  for (const auto& l : r.logs()) {
    logs.push_back({{"format", formatName(l.format())},
                    {"source", utf8(l.source())},
                    {"bytes", l.content().size()},
                    {"offset", l.offset()}});
  }
  std::size_t findings = 0;
  for (const auto& c : r.containers()) findings += static_cast<std::size_t>(c.findings_size());
  return {{"schema_version", r.schema_version()},
          {"report_created_at", utcTime(r.created_unix_ms())},
          {"host", hostJson(r.host())},
          {"measurement_pcr", r.measurement_pcr()},
          {"measurements", measured.size()},
          {"measurements_by_kind", by_kind},
          {"logs", std::move(logs)},
          {"containers", r.containers_size()},
          {"container_findings", findings}};
}

json optInt(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

json evidenceSummary(const std::optional<StoredEvidence>& evidence,
                     const std::optional<AppraisalRecord>& latest, const LogCopy* copy) {
  if (!evidence) return nullptr;
  json out = {{"sha256", toHex(evidence->digest)},
              {"received_at", utcTime(evidence->received_at)},
              {"bytes", evidence->bytes.size()}};
  if (latest) {
    out["tpm"] = {{"reset_count", optInt(latest->reset_count)},
                  {"restart_count", optInt(latest->restart_count)},
                  {"clock", optInt(latest->clock)}};
  }
  bulwark::v1::Evidence ev;
  bulwark::v1::Report report;
  if (evidence->bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !ev.ParseFromArray(evidence->bytes.data(), static_cast<int>(evidence->bytes.size())) ||
      !report.ParseFromString(ev.report())) {
    out["error"] = "stored evidence does not decode as bulwark.v1.Evidence";
    return out;
  }
  out.update(reportJson(report, copy));
  out["pcr_banks"] = banksJson(ev.quote());
  return out;
}

}  // namespace bulwark::server::report
