#include "attest/cel/bulwark_content.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace bulwark::attest {

namespace {

using nlohmann::json;

bool isLowerHex(const std::string& s, std::size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Iterative walk (content can come from an untrusted log): floats have no single
// textual form across implementations, so canonical content admits integers only.
bool hasFloat(const json& root) {
  std::vector<const json*> todo{&root};
  while (!todo.empty()) {
    const json* v = todo.back();
    todo.pop_back();
    if (v->is_number_float()) return true;
    if (v->is_structured()) {
      for (const auto& child : *v) todo.push_back(&child);
    }
  }
  return false;
}

Result<void> requireString(const json& obj, const char* name, std::size_t max) {
  if (!obj.contains(name) || !obj.at(name).is_string()) {
    return fail(ErrorCode::kMalformed, std::string("'") + name + "' is missing or not a string");
  }
  const auto& s = obj.at(name).get_ref<const std::string&>();
  if (s.empty() || s.size() > max) {
    return fail(ErrorCode::kMalformed, std::string("'") + name + "' is empty or longer than " +
                                           std::to_string(max) + " bytes");
  }
  return {};
}

Result<void> validateEntry(const json& e, std::size_t i) {
  auto where = "batch[" + std::to_string(i) + "]: ";
  if (!e.is_object()) return fail(ErrorCode::kMalformed, where + "not an object");
  for (auto [name, max] : {std::pair{"kind", kBulwarkMaxKind}, {"subject", kBulwarkMaxSubject}}) {
    if (auto r = requireString(e, name, max); !r) {
      return fail(ErrorCode::kMalformed, where + r.error().message());
    }
  }
  if (!e.contains("sha256") || !e.at("sha256").is_string() ||
      !isLowerHex(e.at("sha256").get_ref<const std::string&>(), 64)) {
    return fail(ErrorCode::kMalformed, where + "'sha256' is not 64 lower-case hex digits");
  }
  return {};
}

Result<void> validateBatch(const json& c) {
  if (!c.contains("batch") || !c.at("batch").is_array() || c.at("batch").empty()) {
    return fail(ErrorCode::kMalformed, "'batch' is missing, not an array or empty");
  }
  std::size_t i = 0;
  for (const auto& e : c.at("batch")) {
    if (auto r = validateEntry(e, i++); !r) return r;
  }
  return {};
}

Result<void> validateRecovery(const json& c) {
  if (!c.contains("torn_bytes") || !c.at("torn_bytes").is_number_unsigned()) {
    return fail(ErrorCode::kMalformed, "'torn_bytes' is missing or not an unsigned integer");
  }
  if (!c.contains("interrupted") || !c.at("interrupted").is_boolean()) {
    return fail(ErrorCode::kMalformed, "'interrupted' is missing or not a boolean");
  }
  return {};
}

std::string at(const CelRecord& r) {
  return "record " + std::to_string(r.index) + " at offset " + std::to_string(r.offset) + ": ";
}

// Findings for one Bulwark record; appended to `out`.
void checkRecord(const CelRecord& r, std::vector<CelFinding>& out) {
  auto add = [&](std::string reason) { out.push_back({r.index, r.offset, at(r) + reason}); };
  auto event = validateBulwarkContent(r.content);
  if (!event) return add("bulwark content: " + event.error().message());
  if (*event != BulwarkEvent::kBatch) {
    if (!r.isNoAction()) add("bulwark marker record carries digests (it must not extend a PCR)");
    if (*event == BulwarkEvent::kLogStart && r.index != 0) add("log-start record is not first");
    return;
  }
  if (!r.pcr) return add("bulwark batch record targets an NV index, not a PCR");
  if (r.isNoAction()) return add("bulwark batch record has no digests (it was not extended)");
  if (!r.unknown_algs.empty())
    add("bulwark batch record uses unsupported hashAlg \"" + r.unknown_algs[0] + "\"");
  auto canonical = canonicalContent(r.content);
  if (!canonical) return add("bulwark content: " + canonical.error().message());
  for (const auto& d : r.digests) {
    if (!constantTimeEqual(d.value, digest(d.alg, asBytes(*canonical)))) {
      add(std::string(hashAlgName(d.alg)) + " digest does not match the content");
    }
  }
}

}  // namespace

json makeBatchContent(std::span<const BatchEntry> entries) {
  json list = json::array();
  for (const auto& e : entries) {
    list.push_back({{"kind", e.kind}, {"subject", e.subject}, {"sha256", toHex(e.sha256)}});
  }
  return {{"version", kBulwarkContentVersion}, {"event", "batch"}, {"batch", std::move(list)}};
}

json makeLogStartContent(std::string_view boot_id) {
  return {{"version", kBulwarkContentVersion},
          {"event", "log-start"},
          {"boot_id", std::string(boot_id)}};
}

json makeRecoveryContent(std::size_t torn_bytes, bool interrupted) {
  return {{"version", kBulwarkContentVersion},
          {"event", "recovery"},
          {"torn_bytes", static_cast<std::uint64_t>(torn_bytes)},
          {"interrupted", interrupted}};
}

Result<std::string> canonicalContent(const json& content) {
  if (hasFloat(content)) {
    return fail(ErrorCode::kMalformed, "canonical content admits no floating-point numbers");
  }
  try {
    // nlohmann::json stores objects in a std::map<std::string, ...>, so dump() emits
    // members in byte-wise key order; indent -1 = no whitespace; ensure_ascii=false.
    return content.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return fail(ErrorCode::kMalformed, std::string("content is not valid UTF-8: ") + e.what());
  }
}

Result<std::vector<CelDigest>> bulwarkDigests(const json& content, std::span<const HashAlg> banks) {
  auto canonical = canonicalContent(content);
  if (!canonical) return std::unexpected(canonical.error());
  std::vector<CelDigest> out;
  for (HashAlg alg : banks) out.push_back({alg, digest(alg, asBytes(*canonical))});
  return out;
}

Result<BulwarkEvent> validateBulwarkContent(const json& c) {
  if (!c.is_object()) return fail(ErrorCode::kMalformed, "content is not an object");
  if (!c.contains("version") || !c.at("version").is_number_unsigned()) {
    return fail(ErrorCode::kMalformed, "'version' is missing or not an unsigned integer");
  }
  if (c.at("version").get<std::uint64_t>() != kBulwarkContentVersion) {
    return fail(ErrorCode::kUnsupported,
                "content version " + std::to_string(c.at("version").get<std::uint64_t>()));
  }
  if (!c.contains("event") || !c.at("event").is_string()) {
    return fail(ErrorCode::kMalformed, "'event' is missing or not a string");
  }
  const auto& event = c.at("event").get_ref<const std::string&>();
  if (event == "batch") {
    if (auto r = validateBatch(c); !r) return std::unexpected(r.error());
    return BulwarkEvent::kBatch;
  }
  if (event == "log-start") {
    if (!c.contains("boot_id") || !c.at("boot_id").is_string() ||
        !isLowerHex(c.at("boot_id").get_ref<const std::string&>(), 32)) {
      return fail(ErrorCode::kMalformed, "'boot_id' is not 32 lower-case hex digits");
    }
    return BulwarkEvent::kLogStart;
  }
  if (event == "recovery") {
    if (auto r = validateRecovery(c); !r) return std::unexpected(r.error());
    return BulwarkEvent::kRecovery;
  }
  return fail(ErrorCode::kUnsupported, "unknown event \"" + event + "\"");
}

std::vector<CelFinding> checkBulwarkRecords(const CelLog& log) {
  std::vector<CelFinding> out;
  for (const auto& r : log.records) {
    if (r.content_type == kBulwarkContentType) checkRecord(r, out);
  }
  return out;
}

std::vector<BatchEntry> loggedBatchEntries(const CelLog& log) {
  std::vector<BatchEntry> out;
  for (const CelRecord& rec : log.records) {
    if (rec.content_type != kBulwarkContentType) continue;
    auto ev = validateBulwarkContent(rec.content);
    if (!ev || *ev != BulwarkEvent::kBatch) continue;
    for (const auto& e : rec.content["batch"]) {
      auto sha = fromHex(e["sha256"].get<std::string>());
      if (!sha) continue;
      out.push_back({e["kind"].get<std::string>(), e["subject"].get<std::string>(), std::move(*sha)});
    }
  }
  return out;
}

}  // namespace bulwark::attest
