#include "attest/cel/cel_parser.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>
#include <vector>

namespace bulwark::attest {

namespace {

using nlohmann::json;

// The outcome of parsing one JSON text: a value, or where and why parsing stopped.
struct JsonText {
  json value;
  bool ok = false;
  bool ran_out = false;  // the parser needed more input: a truncated text
  std::string problem;
};

// Parses with nlohmann's DOM parser plus a callback that rejects duplicate member
// names (RFC 8259 §4 leaves them undefined, so two parsers could read two different
// records) and nesting deeper than max_depth. Exceptions stay inside this function.
JsonText parseJsonText(std::string_view text, int max_depth) {
  JsonText out;
  std::vector<std::set<std::string>> members;  // one set per open object
  std::string violation;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!violation.empty()) return true;
    if (depth > max_depth) violation = "JSON nested deeper than " + std::to_string(max_depth);
    switch (event) {
      case json::parse_event_t::object_start:
        members.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!members.empty()) members.pop_back();
        break;
      case json::parse_event_t::key:
        if (!members.empty() && parsed.is_string() &&
            !members.back().insert(parsed.get_ref<const std::string&>()).second) {
          violation = "duplicate member name \"" + parsed.get_ref<const std::string&>() + "\"";
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    out.value = json::parse(text.begin(), text.end(), callback);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based; past the end means the text stopped early.
    out.ran_out = e.byte > text.size();
    out.problem =
        "invalid JSON at byte " + std::to_string(e.byte > 0 ? e.byte - 1 : 0) + " of the record";
    return out;
  } catch (const json::exception& e) {
    out.problem = std::string("invalid JSON: ") + e.what();
    return out;
  }
  if (!violation.empty()) {
    out.problem = violation;
    return out;
  }
  out.ok = true;
  return out;
}

Result<std::uint64_t> unsignedField(const json& obj, const char* name, std::uint64_t max) {
  const json& v = obj.at(name);
  if (!v.is_number_unsigned()) {
    return fail(ErrorCode::kMalformed, std::string("'") + name + "' is not an unsigned integer");
  }
  auto n = v.get<std::uint64_t>();
  if (n > max) return fail(ErrorCode::kMalformed, std::string("'") + name + "' is out of range");
  return n;
}

// Strict hex: even length, [0-9a-fA-F] only, no "0x" (fromHex would accept one).
Result<Bytes> hexField(const json& v) {
  if (!v.is_string()) return fail(ErrorCode::kMalformed, "'digest' is not a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty()) return fail(ErrorCode::kMalformed, "'digest' is empty");
  bool hex_only = std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (!hex_only) return fail(ErrorCode::kMalformed, "'digest' is not a hex string");
  return fromHex(s);
}

Result<void> parseDigest(const json& entry, CelRecord& record) {
  if (!entry.is_object()) return fail(ErrorCode::kMalformed, "'digests' element is not an object");
  if (!entry.contains("hashAlg") || !entry.at("hashAlg").is_string()) {
    return fail(ErrorCode::kMalformed, "'digests' element lacks a string 'hashAlg'");
  }
  if (!entry.contains("digest"))
    return fail(ErrorCode::kMalformed, "'digests' element lacks 'digest'");
  const auto& name = entry.at("hashAlg").get_ref<const std::string&>();
  auto value = hexField(entry.at("digest"));
  if (!value) return std::unexpected(value.error());
  auto alg = hashAlgFromName(name);
  bool seen = std::find(record.unknown_algs.begin(), record.unknown_algs.end(), name) !=
              record.unknown_algs.end();
  if (seen || (alg && record.digestFor(*alg) != nullptr)) {
    return fail(ErrorCode::kMalformed, "hashAlg \"" + name + "\" appears twice");
  }
  if (!alg) {
    // Like systemd-pcrlock: a bank we cannot compute is skipped, not fatal. A record
    // carrying only such banks still counts as extending (see isNoAction()).
    record.unknown_algs.push_back(name);
    return {};
  }
  if (value->size() != hashAlgSize(*alg)) {
    return fail(ErrorCode::kMalformed, "'" + name + "' digest has " +
                                           std::to_string(value->size()) + " bytes, expected " +
                                           std::to_string(hashAlgSize(*alg)));
  }
  record.digests.push_back(CelDigest{*alg, std::move(*value)});
  return {};
}

Result<void> parseTarget(const json& j, CelRecord& record) {
  bool has_pcr = j.contains("pcr");
  bool has_nv = j.contains("nv_index");
  if (has_pcr == has_nv) {
    return fail(ErrorCode::kMalformed, "record needs exactly one of 'pcr' and 'nv_index'");
  }
  if (has_pcr) {
    auto pcr = unsignedField(j, "pcr", kCelMaxPcr);
    if (!pcr) return std::unexpected(pcr.error());
    record.pcr = static_cast<std::uint32_t>(*pcr);
  } else {
    auto nv = unsignedField(j, "nv_index", std::numeric_limits<std::uint32_t>::max() - 1);
    if (!nv) return std::unexpected(nv.error());
    record.nv_index = static_cast<std::uint32_t>(*nv);
  }
  return {};
}

// Field rules follow the CEL-JSON record (TCG CEL v1 §5) as systemd writes it.
Result<CelRecord> recordFromJson(json&& j) {
  if (!j.is_object()) return fail(ErrorCode::kMalformed, "record is not a JSON object");
  CelRecord record;
  if (j.contains("recnum")) {
    auto recnum = unsignedField(j, "recnum", std::numeric_limits<std::uint64_t>::max());
    if (!recnum) return std::unexpected(recnum.error());
    record.recnum = *recnum;
  }
  if (auto target = parseTarget(j, record); !target) return std::unexpected(target.error());
  if (!j.contains("digests") || !j.at("digests").is_array()) {
    return fail(ErrorCode::kMalformed, "'digests' is missing or not an array");
  }
  if (j.at("digests").size() > 16) return fail(ErrorCode::kMalformed, "more than 16 digests");
  for (const auto& entry : j.at("digests")) {
    if (auto d = parseDigest(entry, record); !d) return std::unexpected(d.error());
  }
  if (!j.contains("content_type") || !j.at("content_type").is_string()) {
    return fail(ErrorCode::kMalformed, "'content_type' is missing or not a string");
  }
  record.content_type = j.at("content_type").get<std::string>();
  if (!j.contains("content")) return fail(ErrorCode::kMalformed, "'content' is missing");
  record.content = std::move(j.at("content"));
  return record;
}

}  // namespace

CelSegment decodeCelSegment(std::string_view segment, const CelParseOptions& options) {
  CelSegment out;
  bool terminated = !segment.empty() && segment.back() == static_cast<char>(kCelRecordTerminator);
  JsonText text = parseJsonText(segment, options.max_depth);
  if (!text.ok) {
    // Writers emit the '\n' last, so only an unterminated text that merely stopped
    // early is a torn write; an error before the end is damage, wherever it is.
    out.state = (!terminated && text.ran_out) ? CelSegmentState::kTorn : CelSegmentState::kCorrupt;
    out.problem = out.state == CelSegmentState::kTorn ? "record is truncated" : text.problem;
    return out;
  }
  if (!terminated) {
    out.state = CelSegmentState::kTorn;
    out.problem = "record lacks its closing newline";
    return out;
  }
  auto record = recordFromJson(std::move(text.value));
  if (!record) {
    out.problem = record.error().message();
    return out;
  }
  out.state = CelSegmentState::kComplete;
  out.record = std::move(*record);
  return out;
}

Result<CelLog> parseCel(ByteView data, const CelParseOptions& options) {
  CelLog log;
  if (data.empty()) return log;
  if (data[0] != kCelRecordSeparator) {
    return fail(ErrorCode::kMalformed, "record 0 at offset 0: log does not start with 0x1E", "cel");
  }
  std::string_view all(reinterpret_cast<const char*>(data.data()), data.size());
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t next = all.find(static_cast<char>(kCelRecordSeparator), pos + 1);
    bool last = next == std::string_view::npos;
    std::size_t end = last ? all.size() : next;
    std::size_t index = log.records.size();
    auto where = "record " + std::to_string(index) + " at offset " + std::to_string(pos) + ": ";
    if (end - pos > options.max_record_bytes) {
      return fail(ErrorCode::kMalformed,
                  where + "record exceeds " + std::to_string(options.max_record_bytes) + " bytes",
                  "cel");
    }
    if (index >= options.max_records) {
      return fail(ErrorCode::kMalformed,
                  where + "more than " + std::to_string(options.max_records) + " records", "cel");
    }
    CelSegment seg = decodeCelSegment(all.substr(pos + 1, end - pos - 1), options);
    if (seg.state == CelSegmentState::kTorn && last) {
      log.torn = CelTornTail{pos, end - pos, seg.problem};
      break;
    }
    if (seg.state != CelSegmentState::kComplete) {
      return fail(ErrorCode::kMalformed, where + seg.problem, "cel");
    }
    seg.record.index = index;
    seg.record.offset = pos;
    seg.record.size = end - pos;
    log.records.push_back(std::move(seg.record));
    log.complete_bytes = end;
    pos = end;
  }
  return log;
}

}  // namespace bulwark::attest
