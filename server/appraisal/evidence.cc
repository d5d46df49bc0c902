#include "server/appraisal/evidence.h"

#include <tss2/tss2_tpm2_types.h>

#include <algorithm>
#include <array>

#include "attest/cel/bulwark_content.h"
#include "attest/cel/cel_parser.h"
#include "attest/core/digest.h"
#include "attest/ima/ima_log.h"
#include "attest/quote/marshal.h"

namespace bulwark::server {

namespace {
using bulwark::v1::EventLog;

constexpr std::array<std::string_view, 7> kKinds = {
    "host-file", "kernel", "cmdline", "module", "runtime-binary", "runtime-process", "image"};
constexpr std::array<std::string_view, 4> kSeverities = {"low", "medium", "high", "critical"};

std::unexpected<Error> bad(const std::string& field, const std::string& problem) {
  return fail(ErrorCode::kMalformed, field + ": " + problem);
}

Bytes toBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

bool isKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

Result<void> checkText(const std::string& field, std::string_view s, std::size_t max,
                       bool required) {
  if (required && s.empty()) return bad(field, "is empty");
  if (s.size() > max) return bad(field, "longer than " + std::to_string(max) + " bytes");
  if (s.find('\0') != std::string_view::npos) return bad(field, "contains NUL");
  return {};
}

Result<void> parseQuoted(ParsedEvidence& out) {
  TPMS_ATTEST a{};
  if (auto r = attest::unmarshalAttest(out.attest, a); !r)
    return bad("quote.attest", r.error().message());
  TPMT_SIGNATURE sig{};
  if (auto r = attest::unmarshalSignature(out.signature, sig); !r) {
    return bad("quote.signature", r.error().message());
  }
  out.quoted.clock = {a.clockInfo.clock, a.clockInfo.resetCount, a.clockInfo.restartCount,
                      a.clockInfo.safe == TPM2_YES};
  if (a.type != TPM2_ST_ATTEST_QUOTE) return {};  // the quote check names attest-type
  out.quoted.is_quote = true;
  const TPML_PCR_SELECTION& sel = a.attested.quote.pcrSelect;
  for (std::uint32_t i = 0; i < sel.count; ++i) {
    const TPMS_PCR_SELECTION& b = sel.pcrSelections[i];
    auto alg = hashAlgFromId(b.hash);
    if (!alg) return fail(ErrorCode::kUnsupported, "quote.attest: selects an unknown PCR bank");
    std::uint32_t mask = 0;
    for (std::size_t k = 0; k < b.sizeofSelect && k < 4; ++k)
      mask |= std::uint32_t{b.pcrSelect[k]} << (8 * k);
    if (auto r = out.quoted.selection.add(*alg, mask); !r)
      return bad("quote.attest", r.error().message());
  }
  return {};
}

Result<void> parsePcrs(const bulwark::v1::Quote& q, ParsedEvidence& out) {
  if (q.pcrs_size() == 0) return bad("quote.pcrs", "no PCR bank");
  if (q.pcrs_size() > 4) return bad("quote.pcrs", "more than 4 banks");
  for (const auto& bank : q.pcrs()) {
    auto alg = hashAlgFromName(bank.hash_alg());
    if (!alg) return bad("quote.pcrs", "unknown bank '" + bank.hash_alg().substr(0, 16) + "'");
    for (const auto& prev : out.pcrs) {
      if (prev.alg == *alg) return bad("quote.pcrs", "bank " + bank.hash_alg() + " twice");
    }
    attest::PcrBankValues values{*alg, {}};
    for (const auto& v : bank.pcrs()) {
      std::string where = "quote.pcrs[" + bank.hash_alg() + "]";
      if (v.index() > 23) return bad(where, "PCR index " + std::to_string(v.index()) + " > 23");
      if (!values.values.empty() && v.index() <= values.values.back().index) {
        return bad(where, "PCR indices not strictly ascending");
      }
      if (v.digest().size() != hashAlgSize(*alg)) {
        return bad(where, "PCR " + std::to_string(v.index()) + " has " +
                              std::to_string(v.digest().size()) + " bytes");
      }
      values.values.push_back({v.index(), toBytes(v.digest())});
    }
    if (values.values.empty()) return bad("quote.pcrs", "bank " + bank.hash_alg() + " has no PCR");
    out.pcrs.push_back(std::move(values));
  }
  return {};
}

// Positions of a log shipped from `offset` become positions in the whole log.
void rebaseCel(attest::CelLog& log, std::uint64_t offset, std::uint64_t entries_before) {
  for (attest::CelRecord& r : log.records) {
    r.index += entries_before;
    r.offset += offset;
  }
  if (log.torn) log.torn->offset += offset;
}

Result<void> parseLog(const EventLog& in, std::size_t index, const EvidenceLimits& limits,
                      ParsedEvidence& out) {
  std::string field = "report.logs[" + std::to_string(index) + "]";
  if (in.offset() != 0 || in.entries_before() != 0) {
    if (in.format() != EventLog::CEL_JSON) {
      return fail(ErrorCode::kUnsupported,
                  field + ": only CEL logs are shipped incrementally; send the whole log");
    }
    if (in.offset() == 0 || in.entries_before() == 0 || in.offset() > limits.max_log_offset ||
        in.entries_before() > in.offset()) {
      return bad(field, "offset " + std::to_string(in.offset()) + " with entries_before " +
                            std::to_string(in.entries_before()) + " is not a log position");
    }
  }
  if (auto r = checkText(field + ".source", in.source(), 4096, false); !r) return r;
  ParsedLog log;
  log.format = in.format();
  log.source = in.source();
  log.index = index;
  log.offset = in.offset();
  log.entries_before = in.entries_before();
  ByteView content = asBytes(in.content());
  switch (in.format()) {
    case EventLog::CEL_JSON: {
      auto cel = attest::parseCel(content);
      if (!cel) {
        return bad(field, "CEL" +
                              (log.incremental() ? " after offset " + std::to_string(log.offset)
                                                 : std::string()) +
                              ": " + cel.error().message());
      }
      rebaseCel(*cel, log.offset, log.entries_before);
      log.cel = std::move(*cel);
      break;
    }
    case EventLog::TCG_PC_CLIENT: {
      auto tcg = attest::eventlog::parseEventLog(content);
      if (!tcg) return bad(field, "firmware log: " + tcg.error().toString());
      log.tcg = std::move(*tcg);
      log.raw = in.content();
      break;
    }
    case EventLog::IMA_ASCII: {
      auto lines = attest::ima::parseImaLines(in.content(), 0, 0);
      if (!lines) return bad(field, "IMA: " + lines.error().toString());
      log.ima = in.content();
      break;
    }
    default:
      return bad(field + ".format", "unspecified or unknown log format");
  }
  for (const ParsedLog& prev : out.logs) {
    if (prev.format == log.format && log.format != EventLog::CEL_JSON) {
      return bad(field, "a second " + log.label() + "; send each log once");
    }
    // The verifier's copy of an incremental log is found by its source.
    if (prev.format == log.format && (prev.incremental() || log.incremental()) &&
        prev.source == log.source) {
      return bad(field, "a second " + log.label() + "; send each log once");
    }
  }
  if (log.incremental() && log.source.empty()) {
    return bad(field + ".source", "an incremental log needs its source");
  }
  out.logs.push_back(std::move(log));
  return {};
}

Result<void> parseMeasurements(const bulwark::v1::Report& r, const EvidenceLimits& limits,
                               ParsedEvidence& out) {
  if (static_cast<std::size_t>(r.measurements_size()) > limits.max_measurements) {
    return bad("report.measurements", "more than " + std::to_string(limits.max_measurements));
  }
  for (int i = 0; i < r.measurements_size(); ++i) {
    const auto& m = r.measurements(i);
    std::string field = "report.measurements[" + std::to_string(i) + "]";
    if (m.kind().empty() || m.kind().size() > 32 ||
        !std::all_of(m.kind().begin(), m.kind().end(), isKindChar)) {
      return bad(field + ".kind", "must be 1..32 characters of [a-z0-9_.-]");
    }
    if (auto c = checkText(field + ".subject", m.subject(), limits.max_text, true); !c) return c;
    if (m.sha256().size() != 32) return bad(field + ".sha256", "must be 32 bytes");
    out.measurements.push_back({m.kind(), m.subject(), toBytes(m.sha256())});
  }
  return {};
}

Result<void> parseContainers(const bulwark::v1::Report& r, const EvidenceLimits& limits) {
  if (static_cast<std::size_t>(r.containers_size()) > limits.max_containers) {
    return bad("report.containers", "more than " + std::to_string(limits.max_containers));
  }
  std::size_t findings = 0;
  for (int i = 0; i < r.containers_size(); ++i) {
    const auto& c = r.containers(i);
    std::string field = "report.containers[" + std::to_string(i) + "]";
    for (const auto* s : {&c.id(), &c.name(), &c.image(), &c.runtime()}) {
      if (auto t = checkText(field, *s, limits.max_text, false); !t) return t;
    }
    const std::string& d = c.image_digest();
    if (!d.empty() && (d.size() != 71 || d.compare(0, 7, "sha256:") != 0 ||
                       !std::all_of(d.begin() + 7, d.end(), [](char ch) {
                         return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                       }))) {
      return bad(field + ".image_digest", "must be \"sha256:\" and 64 lower-case hex digits");
    }
    findings += static_cast<std::size_t>(c.findings_size());
    if (findings > limits.max_findings) return bad("report.containers", "too many findings");
    for (const auto& f : c.findings()) {
      if (auto t = checkText(field + ".findings.control", f.control(), 256, true); !t) return t;
      if (auto t = checkText(field + ".findings.detail", f.detail(), limits.max_text, false); !t)
        return t;
      if (std::find(kSeverities.begin(), kSeverities.end(), f.severity()) == kSeverities.end()) {
        return bad(field + ".findings.severity", "must be low, medium, high or critical");
      }
    }
  }
  return {};
}

Result<void> parseReport(const EvidenceLimits& limits, ParsedEvidence& out) {
  bulwark::v1::Report& r = out.report;
  if (!r.ParseFromString(out.report_bytes)) return bad("report", "not a bulwark.v1.Report");
  if (r.schema_version() != 1) return bad("report.schema_version", "must be 1");
  if (!isNodeName(r.node())) return bad("report.node", "not a valid node name");
  if (r.nonce().size() < 16 || r.nonce().size() > 64)
    return bad("report.nonce", "must be 16..64 bytes");
  if (r.measurement_pcr() > 23) return bad("report.measurement_pcr", "must be 0..23");
  if (static_cast<std::size_t>(r.logs_size()) > limits.max_logs) {
    return bad("report.logs", "more than " + std::to_string(limits.max_logs) + " logs");
  }
  for (int i = 0; i < r.logs_size(); ++i) {
    if (auto l = parseLog(r.logs(i), static_cast<std::size_t>(i), limits, out); !l) return l;
  }
  collectLogged(out);
  if (auto m = parseMeasurements(r, limits, out); !m) return m;
  return parseContainers(r, limits);
}
}  // namespace

bool isNodeName(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool isKnownMeasurementKind(std::string_view kind) {
  return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

void collectLogged(ParsedEvidence& ev) {
  ev.logged.clear();
  for (const ParsedLog& log : ev.logs) {
    if (!log.cel) continue;
    for (auto& e : attest::loggedBatchEntries(*log.cel))
      ev.logged.push_back({std::move(e.kind), std::move(e.subject), std::move(e.sha256)});
  }
}

bool ParsedEvidence::incremental() const {
  return std::any_of(logs.begin(), logs.end(), [](const ParsedLog& l) { return l.incremental(); });
}

std::string ParsedLog::label() const {
  std::string name = format == EventLog::CEL_JSON        ? "CEL log"
                     : format == EventLog::TCG_PC_CLIENT ? "firmware log"
                     : format == EventLog::IMA_ASCII     ? "IMA log"
                                                         : "log";
  return name + " #" + std::to_string(index) + (source.empty() ? "" : " (" + source + ")");
}

Result<ParsedEvidence> parseEvidence(ByteView bytes, const EvidenceLimits& limits) {
  if (bytes.empty()) return bad("evidence", "empty body");
  if (bytes.size() > limits.max_evidence_bytes) {
    return bad("evidence", "larger than " + std::to_string(limits.max_evidence_bytes) + " bytes");
  }
  bulwark::v1::Evidence ev;
  if (!ev.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("evidence", "not a bulwark.v1.Evidence protobuf message");
  }
  if (ev.report().empty()) return bad("evidence.report", "missing");
  if (!ev.has_quote()) return bad("evidence.quote", "missing");
  ParsedEvidence out;
  out.digest = sha256(bytes);
  out.report_bytes = std::move(*ev.mutable_report());
  out.attest = toBytes(ev.quote().attest());
  out.signature = toBytes(ev.quote().signature());
  if (auto r = parseQuoted(out); !r) return std::unexpected(r.error());
  if (auto r = parsePcrs(ev.quote(), out); !r) return std::unexpected(r.error());
  if (auto r = parseReport(limits, out); !r) return std::unexpected(r.error());
  return out;
}

}  // namespace bulwark::server
